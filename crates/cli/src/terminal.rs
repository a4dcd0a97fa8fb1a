//! Guest text on the host's terminal: never raw.

/// A response body on stdout: as the guest sent it when piped (so that
/// `> file` keeps the bytes), made inert for a terminal.
pub(crate) fn print_body(body: &[u8]) {
    use std::io::{IsTerminal, Write};
    let mut stdout = std::io::stdout().lock();
    let _ = if stdout.is_terminal() {
        stdout.write_all(inert(&String::from_utf8_lossy(body)).as_bytes())
    } else {
        stdout.write_all(body)
    };
    let _ = stdout.flush();
}

/// Guest text made safe for a terminal (control characters other than
/// newline and tab escaped): `isola serve`'s own, so both commands agree.
pub(crate) use isola_serve::inert;

/// The lines around `line` (1-based) of `source`, with a caret under
/// `column` (1-based, in characters), as compilers print them:
///
/// ```text
///     2 |   run() {
///   > 3 |     const x = 1 +;
///       |                  ^
/// ```
pub(crate) fn code_frame(source: &str, line: usize, column: usize) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let target = *lines.get(line.checked_sub(1)?)?;
    let first = line.saturating_sub(1).max(1);
    let last = (line + 1).min(lines.len());
    let width = last.to_string().len();
    let mut frame = String::new();
    for number in first..=last {
        let text = lines[number - 1];
        let marker = if number == line { '>' } else { ' ' };
        frame.push_str(&format!("{marker} {number:>width$} | {}\n", inert(text)));
        if number == line {
            // Tabs stay tabs so that the caret lines up in any terminal.
            let pad: String = target
                .chars()
                .take(column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            frame.push_str(&format!("  {:>width$} | {pad}^\n", ""));
        }
    }
    Some(frame)
}

/// The code frame for the last `at NAME:LINE:COLUMN` of an error message,
/// when `source_of(NAME)` has the module's text.
pub(crate) fn frame_for_message(
    message: &str,
    source_of: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let (_, location) = message.rsplit_once("\n  at ")?;
    let location = location.lines().next()?.trim();
    let (rest, column) = location.rsplit_once(':')?;
    let (name, line) = rest.rsplit_once(':')?;
    code_frame(&source_of(name)?, line.parse().ok()?, column.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_frame_points_at_the_column_with_context() {
        let source = "export default {\n\trun() {\n\t\tconst x = 1 +;\n\t}\n}\n";
        let frame = frame_for_message(
            "Failed to start Worker:\nUncaught SyntaxError: unexpected token\n  at bad.js:3:16",
            |name| (name == "bad.js").then(|| source.to_owned()),
        )
        .expect("a frame");
        assert_eq!(
            frame,
            "  2 | \trun() {\n> 3 | \t\tconst x = 1 +;\n    | \t\t             ^\n  4 | \t}\n"
        );
        assert_eq!(
            frame_for_message("no location", |_| Some(source.to_owned())),
            None
        );
        assert_eq!(frame_for_message("x\n  at other.js:1:1", |_| None), None);
        assert_eq!(code_frame("one line", 5, 1), None);
    }
}
