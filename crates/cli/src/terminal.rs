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

/// Guest text made safe for a terminal: control characters other than
/// newline and tab are escaped, so a guest cannot drive the host's TTY.
pub(crate) fn inert(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
