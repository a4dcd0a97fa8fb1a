//! Running oxc on code a guest wrote without letting it take the host down.
//!
//! oxc's parser, semantic pass, transformer and printer recurse once per
//! nesting level of the code and have no depth limit, so deeply nested code
//! (a few thousand levels) overflows a normal thread stack, which aborts the
//! process; nested blocks also cost memory superlinearly. Two guards:
//! [`check_nesting`] refuses code nested deeper than [`MAX_NESTING`] by a
//! cheap lexical estimate, before oxc sees it; [`on_deep_stack`] runs the
//! compiler on a worker thread with a large stack (of which only the pages
//! touched are committed) and turns a panic into `None`.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, OnceLock};

/// The deepest nesting accepted for code compiled with oxc: far beyond what
/// people or models write (a few dozen levels), far below what the compiler
/// can take on [`on_deep_stack`].
pub const MAX_NESTING: usize = 1_000;

/// Where code nests deeper than [`MAX_NESTING`]: the 1-based line and
/// column (in characters) of the first token past the limit.
pub fn check_nesting(source: &str) -> Result<(), (u32, u32)> {
    match deepest(source) {
        Some(offset) => Err(line_column(source, offset)),
        None => Ok(()),
    }
}

/// The byte offset where the estimated nesting first exceeds the limit.
///
/// The estimate counts open brackets (`(`, `[`, `{`, `${` in templates) plus,
/// within each bracket level, the operators that nest expressions to their
/// right (`?`, `=>`, `!`, `~`) since the last `,` or `;` at that level. It
/// never underestimates the nesting of those shapes; strings, comments and
/// template text are skipped, and a bracket in a regular expression
/// literal may count (overestimating is safe).
fn deepest(source: &str) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Code,
        Template,
    }
    let bytes = source.as_bytes();
    // One entry per open bracket: the operator chain count of the level it
    // opened from, and whether it is a template's `${`.
    let mut levels: Vec<(usize, bool)> = Vec::new();
    let mut modes = vec![Mode::Code];
    let mut chain = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if modes.last() == Some(&Mode::Template) {
            match c {
                b'\\' => i += 1,
                b'`' => {
                    modes.pop();
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    levels.push((chain, true));
                    chain = 0;
                    modes.push(Mode::Code);
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            if depth(&levels, chain) > MAX_NESTING {
                return Some(i.min(bytes.len()));
            }
            continue;
        }
        match c {
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != c && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'`' => modes.push(Mode::Template),
            b'(' | b'[' | b'{' => {
                levels.push((chain, false));
                chain = 0;
            }
            b')' | b']' | b'}' => {
                if let Some((outer, template)) = levels.pop() {
                    chain = outer;
                    if template {
                        modes.pop();
                    }
                }
            }
            b',' | b';' => chain = 0,
            // `?.`, `??`, `!=` and `!==` do not nest to the right.
            b'?' if matches!(bytes.get(i + 1), Some(b'.' | b'?')) => i += 1,
            b'!' if bytes.get(i + 1) == Some(&b'=') => i += 1,
            b'?' | b'!' | b'~' => chain += 1,
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                chain += 1;
                i += 1;
            }
            _ => {}
        }
        if depth(&levels, chain) > MAX_NESTING {
            return Some(i.min(bytes.len().saturating_sub(1)));
        }
        i += 1;
    }
    None
}

fn depth(levels: &[(usize, bool)], chain: usize) -> usize {
    levels.len() + levels.iter().map(|(c, _)| c).sum::<usize>() + chain
}

/// The 1-based line and column (in characters) of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The stack of the compiler threads: enough for [`MAX_NESTING`] levels in
/// every shape with a wide margin; only touched pages are committed.
const STACK_BYTES: usize = 256 << 20;

type Job = Box<dyn FnOnce() + Send>;

fn queue() -> Option<&'static Mutex<SyncSender<Job>>> {
    static QUEUE: OnceLock<Option<Mutex<SyncSender<Job>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = sync_channel::<Job>(64);
            let rx: &'static Mutex<Receiver<Job>> = Box::leak(Box::new(Mutex::new(rx)));
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mut started = 0;
            for i in 0..threads {
                let spawned = std::thread::Builder::new()
                    .name(format!("isola-compile-{i}"))
                    .stack_size(STACK_BYTES)
                    .spawn(move || {
                        loop {
                            // The lock is released before the job runs.
                            let job = match rx.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return,
                            };
                            match job {
                                Ok(job) => job(),
                                Err(_) => return,
                            }
                        }
                    });
                started += usize::from(spawned.is_ok());
            }
            (started > 0).then(|| Mutex::new(tx))
        })
        .as_ref()
}

/// Runs `f` on a compiler thread with a large stack and waits for it.
/// `None` if `f` panicked or no such thread could be started.
pub fn on_deep_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (reply, answer) = sync_channel(1);
    let job: Job = Box::new(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = reply.send(outcome.ok());
    });
    queue()?.lock().ok()?.send(job).ok()?;
    answer.recv().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_count_brackets_and_right_nesting_operators() {
        let deep = |open: &str, n: usize| open.repeat(n);
        assert!(check_nesting(&deep("(", MAX_NESTING)).is_ok());
        assert_eq!(
            check_nesting(&format!("\n{}", deep("(", MAX_NESTING + 1))),
            Err((2, 1001))
        );
        assert!(check_nesting(&deep("a ? b : ", MAX_NESTING + 1)).is_err());
        assert!(check_nesting(&deep("x => ", MAX_NESTING + 1)).is_err());
        assert!(check_nesting(&deep("`${", MAX_NESTING + 1)).is_err());
        // Flat code of any length is fine: commas and semicolons reset chains.
        assert!(check_nesting(&"f(a ? b : c);".repeat(10_000)).is_ok());
        assert!(check_nesting(&"[a ? 1 : 2, !b],".repeat(10_000)).is_ok());
        assert!(
            check_nesting(&format!(
                "if ({}1) {{}}",
                "a?.b ?? c != d && ".repeat(5_000)
            ))
            .is_ok()
        );
        // Brackets in strings, comments and template text do not count.
        let hidden = format!("'{0}' \"{0}\" // {0}\n /* {0} */ `{0}`", deep("(", 5_000));
        assert!(check_nesting(&hidden).is_ok());
    }

    #[test]
    fn a_panic_on_the_deep_stack_is_none() {
        assert_eq!(on_deep_stack(|| 41 + 1), Some(42));
        assert_eq!(on_deep_stack(|| -> u8 { panic!("compiler bug") }), None);
        assert_eq!(on_deep_stack(|| 7), Some(7));
    }
}
