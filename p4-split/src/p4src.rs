//! A hand-written reader for the parts of P4_16 source that the consistency checks need:
//! `#define`s, `typedef bit<N>`, `const` declarations, `header` blocks with their field
//! widths in order, and the names of tables, actions, controls and externs (Register,
//! RegisterAction, ActionProfile, ActionSelector, Counter, Hash). It is not a P4 parser:
//! it understands exactly the declaration shapes used in `p4/`, and reports what it cannot
//! read instead of guessing.

use std::collections::BTreeMap;

/// One source file: a path relative to `p4/` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the `p4/` directory, e.g. `include/headers.p4`.
    pub path: String,
    /// File contents.
    pub text: String,
}

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Width in bits.
    pub width: u32,
}

/// A `header` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Fields in declaration order.
    pub fields: Vec<Field>,
    /// File that declares it.
    pub file: String,
}

impl Header {
    /// Total width in bits.
    pub fn bits(&self) -> u32 {
        self.fields.iter().map(|f| f.width).sum()
    }

    /// (bit offset, width) of a field.
    pub fn span(&self, name: &str) -> Option<(u32, u32)> {
        let mut off = 0;
        for f in &self.fields {
            if f.name == name {
                return Some((off, f.width));
            }
            off += f.width;
        }
        None
    }
}

/// A `const` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Const {
    /// Declared width (`bit<N>` or a typedef of one); `None` for `int` and other types.
    pub width: Option<u32>,
    /// The value expression as written.
    pub expr: String,
}

/// What kind of named object a declaration makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `table`.
    Table,
    /// `action`.
    Action,
    /// `control`.
    Control,
    /// `parser`.
    Parser,
    /// `Register<...>(...)`.
    Register,
    /// `RegisterAction<...>(reg)`.
    RegisterAction,
    /// `ActionProfile(...)`.
    ActionProfile,
    /// `ActionSelector(...)`.
    ActionSelector,
    /// `Counter<...>(...)`.
    Counter,
    /// `Hash<...>(...)`.
    Hash,
}

/// A named declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Type arguments (`<...>`), as text, for externs.
    pub type_args: Vec<String>,
    /// Constructor arguments (`(...)`), as text, for externs.
    pub args: Vec<String>,
    /// File that declares it.
    pub file: String,
}

/// Everything read from a set of source files.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Object-like `#define NAME value` (function-like macros are kept in `macros`).
    pub defines: BTreeMap<String, String>,
    /// Function-like macros, by name.
    pub macros: BTreeMap<String, String>,
    /// `typedef bit<N> name;` widths.
    pub typedefs: BTreeMap<String, u32>,
    /// `const` declarations.
    pub consts: BTreeMap<String, Const>,
    /// `header` declarations.
    pub headers: BTreeMap<String, Header>,
    /// Named declarations in source order.
    pub objects: Vec<Object>,
}

impl Program {
    /// Reads all files; the error names the file and what could not be read.
    pub fn parse(files: &[SourceFile]) -> Result<Self, String> {
        let mut p = Self::default();
        for f in files {
            p.read_file(f).map_err(|e| format!("{}: {e}", f.path))?;
        }
        Ok(p)
    }

    /// Names visible to expressions: defines and const values.
    pub fn names(&self) -> BTreeMap<String, String> {
        let mut n = self.defines.clone();
        for (k, c) in &self.consts {
            n.insert(k.clone(), c.expr.clone());
        }
        n
    }

    /// The value of a define or const.
    pub fn value(&self, name: &str) -> Result<u128, String> {
        let names = self.names();
        let text = names
            .get(name)
            .ok_or_else(|| format!("{name} is not defined"))?;
        crate::expr::eval(text, &names).map_err(|e| format!("{name}: {e}"))
    }

    /// Evaluates an expression over the defines and consts.
    pub fn eval(&self, expr: &str) -> Result<u128, String> {
        crate::expr::eval(expr, &self.names())
    }

    /// Objects of one kind.
    pub fn objects_of(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }

    /// True if an object of `kind` named `name` exists.
    pub fn has(&self, kind: Kind, name: &str) -> bool {
        self.objects_of(kind).any(|o| o.name == name)
    }

    fn read_file(&mut self, f: &SourceFile) -> Result<(), String> {
        let text = strip_comments(&f.text);
        let mut code = String::new();
        for line in join_continuations(&text).lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("#define") {
                self.define(rest)?;
            } else if !t.starts_with('#') {
                code.push_str(line);
                code.push('\n');
            }
        }
        let toks = tokenize(&code);
        self.declarations(&toks, &f.path)
    }

    fn define(&mut self, rest: &str) -> Result<(), String> {
        let rest = rest.trim();
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty() {
            return Err(format!("#define without a name: {rest:?}"));
        }
        let after = &rest[name_end..];
        if after.starts_with('(') {
            self.macros.insert(name.to_string(), after.to_string());
        } else {
            self.defines
                .insert(name.to_string(), after.trim().to_string());
        }
        Ok(())
    }

    fn width_of(&self, toks: &[String], at: &mut usize) -> Option<u32> {
        let t = toks.get(*at)?;
        if t == "bit" && toks.get(*at + 1).map(String::as_str) == Some("<") {
            let w: u32 = toks.get(*at + 2)?.parse().ok()?;
            if toks.get(*at + 3).map(String::as_str) != Some(">") {
                return None;
            }
            *at += 4;
            Some(w)
        } else if let Some(&w) = self.typedefs.get(t) {
            *at += 1;
            Some(w)
        } else {
            None
        }
    }

    fn declarations(&mut self, toks: &[String], file: &str) -> Result<(), String> {
        let mut i = 0;
        while i < toks.len() {
            let t = toks[i].as_str();
            match t {
                "typedef" => {
                    let mut at = i + 1;
                    let w = self
                        .width_of(toks, &mut at)
                        .ok_or_else(|| format!("typedef not of bit<N> near token {i}"))?;
                    let name = ident(toks, at).ok_or("typedef without a name")?;
                    self.typedefs.insert(name, w);
                    i = at + 1;
                }
                "const"
                    if matches!(
                        toks.get(i + 1).map(String::as_str),
                        Some("default_action" | "entries" | "size")
                    ) =>
                {
                    i += 1; // a table property, not a constant
                }
                "const" => {
                    let mut at = i + 1;
                    let width = self.width_of(toks, &mut at);
                    if width.is_none() {
                        at += 1; // `int` or another type name
                    }
                    let name = ident(toks, at).ok_or("const without a name")?;
                    if toks.get(at + 1).map(String::as_str) != Some("=") {
                        return Err(format!("const {name}: expected '='"));
                    }
                    let end = find(toks, at + 2, ";").ok_or("const without ';'")?;
                    let expr = toks[at + 2..end].join(" ");
                    self.consts.insert(name, Const { width, expr });
                    i = end + 1;
                }
                "header" => {
                    let name = ident(toks, i + 1).ok_or("header without a name")?;
                    if toks.get(i + 2).map(String::as_str) != Some("{") {
                        return Err(format!("header {name}: expected '{{'"));
                    }
                    let mut at = i + 3;
                    let mut fields = Vec::new();
                    while toks.get(at).map(String::as_str) != Some("}") {
                        let width = self.width_of(toks, &mut at).ok_or_else(|| {
                            format!(
                                "header {name}: field type {:?} is not bit<N> or a typedef of one",
                                toks.get(at)
                            )
                        })?;
                        let fname = ident(toks, at)
                            .ok_or_else(|| format!("header {name}: field without a name"))?;
                        if toks.get(at + 1).map(String::as_str) != Some(";") {
                            return Err(format!("header {name}.{fname}: expected ';'"));
                        }
                        fields.push(Field { name: fname, width });
                        at += 2;
                    }
                    self.headers.insert(
                        name,
                        Header {
                            fields,
                            file: file.to_string(),
                        },
                    );
                    i = at + 1;
                }
                "table" | "action" | "control" | "parser" => {
                    let kind = match t {
                        "table" => Kind::Table,
                        "action" => Kind::Action,
                        "control" => Kind::Control,
                        _ => Kind::Parser,
                    };
                    // `parser` also appears as a type in parameter lists; a declaration is
                    // followed by a name and '(' or '{'.
                    match (ident(toks, i + 1), toks.get(i + 2).map(String::as_str)) {
                        (Some(name), Some("(" | "{")) => {
                            self.objects.push(Object {
                                kind,
                                name,
                                type_args: Vec::new(),
                                args: Vec::new(),
                                file: file.to_string(),
                            });
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                "Register" | "RegisterAction" | "ActionProfile" | "ActionSelector" | "Counter"
                | "Hash" => {
                    let kind = match t {
                        "Register" => Kind::Register,
                        "RegisterAction" => Kind::RegisterAction,
                        "ActionProfile" => Kind::ActionProfile,
                        "ActionSelector" => Kind::ActionSelector,
                        "Counter" => Kind::Counter,
                        _ => Kind::Hash,
                    };
                    let mut at = i + 1;
                    let mut type_args = Vec::new();
                    if toks.get(at).map(String::as_str) == Some("<") {
                        let (list, end) = balanced(toks, at, "<", ">")?;
                        type_args = list;
                        at = end;
                    }
                    if toks.get(at).map(String::as_str) != Some("(") {
                        i += 1; // a use, not a declaration (e.g. a type in a parameter)
                        continue;
                    }
                    let (args, end) = balanced(toks, at, "(", ")")?;
                    let name = ident(toks, end)
                        .ok_or_else(|| format!("{t} declaration without a name"))?;
                    self.objects.push(Object {
                        kind,
                        name,
                        type_args,
                        args,
                        file: file.to_string(),
                    });
                    i = end + 1;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }
}

fn ident(toks: &[String], at: usize) -> Option<String> {
    let t = toks.get(at)?;
    let ok = t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| t.clone())
}

fn find(toks: &[String], from: usize, what: &str) -> Option<usize> {
    (from..toks.len()).find(|&k| toks[k] == what)
}

/// The comma-separated top-level items between `open` at `at` and its matching `close`;
/// returns them and the index after `close`.
fn balanced(
    toks: &[String],
    at: usize,
    open: &str,
    close: &str,
) -> Result<(Vec<String>, usize), String> {
    let mut depth = 0usize;
    let mut items = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for (k, t) in toks.iter().enumerate().skip(at) {
        let t = t.as_str();
        if t == open || (open == "(" && t == "<") || (open == "<" && t == "(") {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if t == close || (open == "(" && t == ">") || (open == "<" && t == ")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                if !cur.is_empty() {
                    items.push(cur.join(" "));
                }
                return Ok((items, k + 1));
            }
        } else if t == "," && depth == 1 {
            items.push(cur.join(" "));
            cur.clear();
            continue;
        }
        cur.push(t);
    }
    Err(format!("unbalanced '{open}'"))
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut prev = ' ';
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                }
                if prev == '*' && c == '/' {
                    break;
                }
                prev = c;
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn join_continuations(s: &str) -> String {
    s.replace("\\\n", " ")
}

fn tokenize(s: &str) -> Vec<String> {
    tokens(s, false)
}

/// Identifiers/numbers and single punctuation characters; with `shifts`, `<<` and `>>` are one
/// token (expressions), without it two (`bit<16>>` closes two type arguments).
pub(crate) fn tokens(s: &str, shifts: bool) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(s[start..i].to_string());
        } else if shifts && (c == '<' || c == '>') && b.get(i + 1) == Some(&b[i]) {
            out.push(s[i..i + 2].to_string());
            i += 2;
        } else {
            out.push(c.to_string());
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Program {
        Program::parse(&[SourceFile {
            path: "t.p4".into(),
            text: text.into(),
        }])
        .unwrap()
    }

    #[test]
    fn reads_the_declaration_shapes_we_use() {
        let p = one(
            "/* c */ #define N 4\n#define SEL(s) 1: s;\ntypedef bit<16> q_t; // x\n\
             const q_t A = N * 2;\nconst bit<8> B = 0x0A;\n\
             header h_t { bit<4> v; q_t q; bit<12> r; }\n\
             control C(inout h_t h) { Register<bit<32>, q_t>(N, 0) reg;\n\
             RegisterAction<bit<32>, q_t, bit<32>>(reg) get = { void apply(inout bit<32> v) {} };\n\
             action go(bit<8> x) {} table t { key = {} } }",
        );
        assert_eq!(p.value("A"), Ok(8));
        assert_eq!(p.value("B"), Ok(10));
        assert!(p.macros.contains_key("SEL"));
        let h = &p.headers["h_t"];
        assert_eq!(h.bits(), 32);
        assert_eq!(h.span("q"), Some((4, 16)));
        let reg = p.objects_of(Kind::Register).next().unwrap();
        assert_eq!(reg.name, "reg");
        assert_eq!(reg.type_args, vec!["bit < 32 >", "q_t"]);
        assert_eq!(p.eval(&reg.args[0]), Ok(4));
        assert!(p.has(Kind::RegisterAction, "get"));
        assert!(p.has(Kind::Action, "go"));
        assert!(p.has(Kind::Table, "t"));
        assert!(p.has(Kind::Control, "C"));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let e = Program::parse(&[SourceFile {
            path: "x.p4".into(),
            text: "header h { varbit<8> v; }".into(),
        }])
        .unwrap_err();
        assert!(e.contains("x.p4") && e.contains("header h"), "{e}");
    }
}
