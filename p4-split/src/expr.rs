//! A small integer-expression evaluator for `#define` and `const` values (`TOTAL_QP`,
//! `HEADER_SLOTS - 1`, `0x55991178`, `32w0`), enough to compare P4 numbers with Rust ones.

use std::collections::BTreeMap;

/// Evaluates `text`, resolving identifiers through `lookup` (depth-limited, so a cycle is an
/// error rather than a hang).
pub fn eval(text: &str, names: &BTreeMap<String, String>) -> Result<u128, String> {
    eval_depth(text, names, 0)
}

fn eval_depth(text: &str, names: &BTreeMap<String, String>, depth: u32) -> Result<u128, String> {
    if depth > 16 {
        return Err(format!("{text:?}: definitions nest too deep"));
    }
    let toks = crate::p4src::tokens(text, true);
    let mut p = Parser {
        toks: &toks,
        at: 0,
        names,
        depth,
    };
    let v = p.expr(0)?;
    if p.at != toks.len() {
        return Err(format!("{text:?}: unexpected {:?}", toks[p.at]));
    }
    Ok(v)
}

struct Parser<'a> {
    toks: &'a [String],
    at: usize,
    names: &'a BTreeMap<String, String>,
    depth: u32,
}

fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "|" => 1,
        "^" => 2,
        "&" => 3,
        "<<" | ">>" => 4,
        "+" | "-" => 5,
        "*" | "/" | "%" => 6,
        _ => return None,
    })
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&str> {
        let t = self.toks.get(self.at)?;
        self.at += 1;
        Some(t)
    }

    fn expr(&mut self, min: u8) -> Result<u128, String> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.toks.get(self.at).cloned() {
            let Some(prec) = precedence(&op) else { break };
            if prec < min {
                break;
            }
            self.at += 1;
            let rhs = self.expr(prec + 1)?;
            lhs = apply(&op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<u128, String> {
        match self.next().map(str::to_string) {
            Some(t) if t == "(" => {
                let v = self.expr(0)?;
                match self.next() {
                    Some(")") => Ok(v),
                    other => Err(format!("expected ')', found {other:?}")),
                }
            }
            Some(t) if t == "~" => Ok(!self.unary()?),
            Some(t) if t.starts_with(|c: char| c.is_ascii_digit()) => number(&t),
            Some(t) => match self.names.get(&t) {
                Some(v) => eval_depth(v, self.names, self.depth + 1),
                None => Err(format!("unknown name {t}")),
            },
            None => Err("expression ends early".into()),
        }
    }
}

fn apply(op: &str, a: u128, b: u128) -> Result<u128, String> {
    let r = match op {
        "|" => Some(a | b),
        "^" => Some(a ^ b),
        "&" => Some(a & b),
        "<<" => u32::try_from(b).ok().and_then(|s| a.checked_shl(s)),
        ">>" => u32::try_from(b).ok().and_then(|s| a.checked_shr(s)),
        "+" => a.checked_add(b),
        "-" => a.checked_sub(b),
        "*" => a.checked_mul(b),
        "/" => a.checked_div(b),
        "%" => a.checked_rem(b),
        _ => None,
    };
    r.ok_or_else(|| format!("{a} {op} {b} is out of range"))
}

/// `123`, `0x1F`, `0b101`, `32w5`, `8w0xFF`.
fn number(t: &str) -> Result<u128, String> {
    let t = t.replace('_', "");
    let body = match t.find(['w', 's']) {
        Some(i) if t[..i].chars().all(|c| c.is_ascii_digit()) && i > 0 => &t[i + 1..],
        _ => &t[..],
    };
    let r = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u128::from_str_radix(h, 16)
    } else if let Some(b) = body.strip_prefix("0b") {
        u128::from_str_radix(b, 2)
    } else {
        body.parse()
    };
    r.map_err(|_| format!("bad number {t:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_with_names_and_precedence() {
        let mut n = BTreeMap::new();
        n.insert("A".to_string(), "4".to_string());
        n.insert("B".to_string(), "A * 64".to_string());
        assert_eq!(eval("B - 1", &n), Ok(255));
        assert_eq!(eval("(1 << 24) - 1", &n), Ok(0xff_ffff));
        assert_eq!(eval("32w0x10 + 8w3", &n), Ok(19));
        assert_eq!(eval("2 + 3 * 4", &n), Ok(14));
        assert!(eval("C", &n).is_err());
        assert!(eval("1 +", &n).is_err());
        n.insert("X".to_string(), "X".to_string());
        assert!(eval("X", &n).is_err());
    }
}
