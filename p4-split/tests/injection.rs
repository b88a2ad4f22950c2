//! Strings from the cluster file that land in the generated bfrt_python script cannot inject
//! code: names that must be identifiers are refused when the config is read, the rest are
//! escaped. Python itself parses the generated script to check.

mod common;

use common::{root, skip_or_fail};
use p4_split::deploy::Deployment;
use p4_split::p4src::Program;
use p4_split::{config_header, setup_script, sources};
use std::path::Path;
use std::process::Command;

/// The injected statement; it must never be a statement (a call of a name) in the script.
const EVIL: &str = "INJECTED()";

fn committed_text() -> String {
    std::fs::read_to_string(root().join("configs/cluster.toml")).unwrap()
}

/// Runs Python on `script`: prints the number of top-level statements, and the string
/// constants passed to `open(...)`; fails if any call of the name `INJECTED` exists.
fn python_facts(script: &str) -> Option<String> {
    const CHECK: &str = r#"
import ast, sys
tree = ast.parse(sys.stdin.read())
for n in ast.walk(tree):
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'INJECTED':
        sys.exit('INJECTED() is a call at line %d' % n.lineno)
opened = [n.args[0].value for n in ast.walk(tree)
          if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'open']
print(len(tree.body))
print(repr(opened))
"#;
    let mut child = match Command::new("python3")
        .args(["-c", CHECK])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            skip_or_fail(&format!("python3 cannot run: {e}"));
            return None;
        }
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "python3 refused the script: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(String::from_utf8(o.stdout).unwrap())
}

#[test]
fn config_strings_cannot_inject_code_into_the_setup_script() {
    let p4 = Program::parse(&sources::committed()).unwrap();
    let plain = setup_script::render(&common::deployment(), &p4, "configs/cluster.toml").unwrap();
    let Some(plain_facts) = python_facts(&plain) else {
        return;
    };
    // A key file whose name breaks out of a quoted string, with quotes, backslashes and a
    // newline followed by code; and a config path that breaks out of the header comment.
    let dir = std::env::temp_dir().join(format!("p4-split-inject-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("k\\'\"\n{EVIL}\n#\\");
    let key_file = dir.join(&name);
    std::fs::write(&key_file, "00".repeat(32)).unwrap();
    let key_path = key_file.to_str().unwrap();
    let text = committed_text().replace(
        "# auth_key_file = \"/etc/ribosome/control.key\"",
        &format!(
            "auth_key_file = {}",
            toml::Value::String(key_path.to_string())
        ),
    );
    let d = Deployment::parse(&text).unwrap();
    let config_name = format!("evil.toml`\n{EVIL}\r{EVIL}\u{2028}'\"\\");
    let script = setup_script::render(&d, &p4, &config_name).unwrap();
    let Some(facts) = python_facts(&script) else {
        return;
    };
    let mut lines = facts.lines();
    let mut plain_lines = plain_facts.lines();
    // The same statements as the plain script: nothing was added.
    assert_eq!(lines.next(), plain_lines.next(), "statement count changed");
    // The key file is opened under exactly its real name.
    let opened = lines.next().unwrap();
    let want = format!("[{}]", python_repr(key_path));
    assert_eq!(opened, want);
    // The config header's comment cannot be closed early either.
    let header = config_header::render(&d, &p4, "x*/\n#define X 1\n/*").unwrap();
    assert!(!header.contains("\n#define X 1"), "{header}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Python's repr of a str made of ASCII and `\n` (what the test's names contain).
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut o = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if c == quote => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o.push(quote);
    o
}

#[test]
fn a_program_name_that_is_not_an_identifier_is_refused() {
    let text = committed_text();
    for bad in [
        "ribo\\nINJECTED()",
        "ribo.pipe",
        "1abc",
        "",
        "import",
        "ribo'",
    ] {
        let t = text.replace(
            "program = \"ribosome\"",
            &format!(
                "program = {}",
                toml::Value::String(bad.replace("\\n", "\n"))
            ),
        );
        let e = format!("{:#}", Deployment::parse(&t).unwrap_err());
        assert!(e.contains("tofino.program"), "{bad}: {e}");
        assert!(e.contains("identifier"), "{bad}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    assert!(Path::new(&root().join("configs/cluster.toml")).exists());
}
