//! `${VAR}` and `${VAR:-default}` in configuration strings, expanded from the environment
//! `ephitup` was started with. `$$` stands for a literal `$`. A variable that is unset and has
//! no default is an error rather than an empty string: a silently empty port or path is worse
//! than a refusal to start.
//!
//! Defaults may nest (`${A:-${B:-x}}`), at most [`MAX_NESTING`] deep: each level is a scan and a
//! recursion, and a file must not be able to cost quadratic time or the stack (a live reload
//! runs this inside PID 1).

/// How deep `${` (and braces in defaults) may nest in one expression.
pub const MAX_NESTING: usize = 16;

/// Expands every `${...}` in `input` using `lookup`.
pub fn interpolate(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let end = closing_brace(body_and_tail)?;
            out.push_str(&expand(&body_and_tail[..end], lookup)?);
            rest = &body_and_tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Index of the `}` closing an expression, allowing nested `${...}` in defaults (up to
/// [`MAX_NESTING`] deep).
fn closing_brace(s: &str) -> Result<usize, String> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => {
                depth += 1;
                if depth >= MAX_NESTING {
                    return Err(format!("`${{` nested more than {MAX_NESTING} deep"));
                }
            }
            b'}' if depth == 0 => return Ok(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    Err("unterminated `${`".to_string())
}

fn expand(body: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`${{{}}}` is not a variable reference (expected ${{NAME}} or ${{NAME:-default}})",
            super::diagnostic::clip(body)
        ));
    }
    match (lookup(name).filter(|v| !v.is_empty() || default.is_none()), default) {
        (Some(value), _) => Ok(value),
        (None, Some(default)) => interpolate(default, lookup),
        (None, None) => {
            let name = super::diagnostic::clip(name);
            Err(format!("environment variable {name} is not set (give a default with ${{{name}:-...}})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("9000".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(interpolate("http://x:${PORT}/", &env).as_deref(), Ok("http://x:9000/"));
        assert_eq!(interpolate("${DATA:-./data}/db", &env).as_deref(), Ok("./data/db"));
        assert_eq!(interpolate("${EMPTY:-fallback}", &env).as_deref(), Ok("fallback"));
        assert_eq!(interpolate("${EMPTY}", &env).as_deref(), Ok(""));
        assert_eq!(interpolate("${NOPE:-${PORT}}", &env).as_deref(), Ok("9000"));
    }

    #[test]
    fn keeps_plain_dollars_and_escapes() {
        assert_eq!(interpolate("cost $5 and $$HOME and $${X}", &env).as_deref(), Ok("cost $5 and $HOME and ${X}"));
    }

    #[test]
    fn refuses_unset_variables_and_bad_syntax() {
        assert!(interpolate("${NOPE}", &env).unwrap_err().contains("NOPE is not set"));
        assert!(interpolate("${PORT", &env).unwrap_err().contains("unterminated"));
        assert!(interpolate("${a b}", &env).unwrap_err().contains("not a variable reference"));
    }

    #[test]
    fn nesting_is_bounded_and_cheap() {
        let nested = |depth: usize| format!("{}x{}", "${NOPE:-".repeat(depth), "}".repeat(depth));
        assert_eq!(interpolate(&nested(MAX_NESTING), &env).as_deref(), Ok("x"));
        assert!(interpolate(&nested(MAX_NESTING + 1), &env).unwrap_err().contains("nested more than 16 deep"));
        // 100,000 deep once aborted the process (stack) and 10,000 took seconds.
        let err = interpolate(&nested(100_000), &env).unwrap_err();
        assert!(err.contains("nested more than"), "{err}");
        assert!(err.len() < 200, "the message stays short: {err}");
        // Many expressions side by side are fine: the bound is on depth, not count.
        let wide = "${PORT}".repeat(10_000);
        assert_eq!(interpolate(&wide, &env).map(|s| s.len()), Ok(40_000));
    }
}
