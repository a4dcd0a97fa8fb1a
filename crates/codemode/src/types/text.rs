//! Putting upstream text into generated TypeScript: in comments, in string
//! literals, as property names. Nothing from an upstream may end the
//! comment, the string or the declaration it is put in.

use crate::names::is_identifier;

/// Whether `c` reorders or hides text when shown (bidirectional controls):
/// shown as `U+FFFD` so a comment reads as it parses.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Breaks `</script` (any case) as `<\/script`: harmless in a comment, the
/// same value in a string, and no longer closes an HTML script element the
/// text may end up in.
fn break_script_close(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("</") {
        let after = &rest[at + 2..];
        out.push_str(&rest[..at]);
        let closes = after
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("script"));
        out.push_str(if closes { "<\\/" } else { "</" });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The lines of `text` as they may appear inside a `/** ... */` comment.
///
/// Every line terminator (`\r\n`, `\r`, `\n`, U+2028, U+2029, U+0085)
/// starts a new line; `*/` becomes `*\/`; other control characters become
/// spaces and bidirectional controls U+FFFD; trailing spaces and leading
/// and trailing blank lines are dropped.
pub(crate) fn comment_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' | '\u{2028}' | '\u{2029}' | '\u{0085}' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\t' => line.push(' '),
            c if c.is_control() => line.push(' '),
            c if is_bidi_control(c) => line.push('\u{FFFD}'),
            c => line.push(c),
        }
    }
    lines.push(line);
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| {
            break_script_close(&l.replace("*/", "*\\/"))
                .trim_end()
                .to_owned()
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let start = lines.iter().take_while(|l| l.is_empty()).count();
    lines.drain(..start);
    lines
}

/// A JSDoc comment of `lines` (already made safe by [`comment_lines`]) at
/// `indent`, ending with a newline; empty if there are no lines.
pub(crate) fn jsdoc(lines: &[String], indent: &str) -> String {
    match lines {
        [] => String::new(),
        [line] => format!("{indent}/** {line} */\n"),
        lines => {
            let mut out = format!("{indent}/**\n");
            for line in lines {
                if line.is_empty() {
                    out.push_str(&format!("{indent} *\n"));
                } else {
                    out.push_str(&format!("{indent} * {line}\n"));
                }
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}

/// A double-quoted string literal with the value `text`: JSON escaping,
/// plus U+2028 and U+2029 escaped and `</script` broken.
pub(crate) fn string_literal(text: &str) -> String {
    let json = serde_json::Value::String(text.to_owned()).to_string();
    break_script_close(
        &json
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
    )
}

/// A property name: as written if an identifier, else a string literal.
pub(crate) fn property_key(name: &str) -> String {
    if is_identifier(name) {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cannot_be_closed() {
        assert_eq!(comment_lines("a */ b **/ c"), ["a *\\/ b **\\/ c"]);
        assert_eq!(
            comment_lines("\n\none\r\ntwo\rthree\u{2028}four  \n\n"),
            ["one", "two", "three", "four"]
        );
        assert_eq!(comment_lines("x\u{0}y\u{202E}z"), ["x y\u{FFFD}z"]);
        assert_eq!(comment_lines("</SCRIPT> </b>"), ["<\\/SCRIPT> </b>"]);
        assert!(comment_lines(" \n ").is_empty());
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string_literal("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(string_literal("\u{2028}</script>"), r#""\u2028<\/script>""#);
        assert_eq!(property_key("ok_1"), "ok_1");
        assert_eq!(property_key("not ok"), "\"not ok\"");
    }
}
