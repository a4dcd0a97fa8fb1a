//! Running oxc on code a guest wrote without letting it take the host down.
//!
//! oxc's parser, semantic pass, transformer and printer recurse once per
//! nesting level of the code and have no depth limit, so deeply nested code
//! (a few thousand levels) overflows a normal thread stack, which aborts the
//! process; nested blocks also cost memory superlinearly. Two guards:
//! [`check_nesting`] refuses code nested deeper than [`MAX_NESTING`] by a
//! cheap lexical estimate, before oxc sees it, with the position where it
//! got too deep; [`on_deep_stack`] is the bound that holds for every shape:
//! it runs the compiler on a thread whose stack is sized for the deepest
//! recursion that many bytes of source can cause (a pooled thread when its
//! stack suffices, else one of its own; only the pages touched are
//! committed), and turns a panic into an error.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Condvar, Mutex, OnceLock};

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
/// right (`?`, `=>`, `!`, `~`, `=`, and `<`, which may open type arguments)
/// since the last `,` or `;` at that level.
/// Strings, comments and template text are skipped, and a bracket in a
/// regular expression literal may count. It is a cheap early refusal with
/// a position for the common deep shapes, not the safety net: other shapes
/// (left-deep operator chains, member and call chains) pass it, and what keeps any of
/// them from overflowing the compiler's stack is [`on_deep_stack`] sizing
/// that stack by the source's length. Each byte costs O(1).
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
    // `levels.len()` plus the chain counts saved in `levels`, kept as a
    // running sum so that each byte costs O(1) however deep the brackets.
    let mut outer = 0usize;
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
                    outer += chain + 1;
                    chain = 0;
                    modes.push(Mode::Code);
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            if outer + chain > MAX_NESTING {
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
                outer += chain + 1;
                chain = 0;
            }
            b')' | b']' | b'}' => {
                if let Some((saved, template)) = levels.pop() {
                    outer -= saved + 1;
                    chain = saved;
                    if template {
                        modes.pop();
                    }
                }
            }
            b',' | b';' => chain = 0,
            // `?.`, `??`, `==`, `===`, `!=` and `!==` do not nest to the right.
            b'?' if matches!(bytes.get(i + 1), Some(b'.' | b'?')) => i += 1,
            b'!' | b'=' if bytes.get(i + 1) == Some(&b'=') => {
                while bytes.get(i + 1) == Some(&b'=') {
                    i += 1;
                }
            }
            // `<=` and `>=` compare (`<<=` and `>>=` assign, and nest).
            b'<' | b'>'
                if bytes.get(i + 1) == Some(&b'=')
                    && i.checked_sub(1).map(|p| bytes[p]) != Some(c) =>
            {
                i += 1;
            }
            // `<` may open type arguments, which the TypeScript parser tries
            // (and backs off from) at every level: deep chains of it cost
            // quadratic time as well as stack. `<<` shifts.
            b'<' if bytes.get(i + 1) == Some(&b'<') => i += 1,
            b'?' | b'!' | b'~' | b'<' => chain += 1,
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                chain += 1;
                i += 1;
            }
            // Assignments (`=`, `+=`, `>>=`...) nest to the right.
            b'=' => chain += 1,
            _ => {}
        }
        if outer + chain > MAX_NESTING {
            return Some(i.min(bytes.len().saturating_sub(1)));
        }
        i += 1;
    }
    None
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

/// Stack the compiler is given per byte of source, on top of
/// [`BASE_STACK_BYTES`].
///
/// oxc recurses once per nesting level, and every nesting level takes at
/// least one byte of source, so the stack a compile can need grows at most
/// linearly with the source's length, whatever the grammar shape. The
/// deepest frame chains per source byte were measured over every shape in
/// `typescript::deep_shapes::every_deep_shape_compiles_within_its_stack` (parser,
/// semantic pass, transformer and printer in turn); this is several times
/// the worst of them. That test fails if a shape ever needs more.
pub const STACK_PER_SOURCE_BYTE: usize = 2_048;

/// Stack every compile gets regardless of its size.
const BASE_STACK_BYTES: usize = 4 << 20;

/// The largest stack a compile may reserve. Only pages actually touched are
/// committed, and the thread's whole stack is unmapped when it ends.
const MAX_STACK_BYTES: usize = 2 << 30;

/// The longest source [`on_deep_stack`] compiles: its worst case fits in
/// [`MAX_STACK_BYTES`].
pub const MAX_COMPILED_BYTES: usize = (MAX_STACK_BYTES - BASE_STACK_BYTES) / STACK_PER_SOURCE_BYTE;

/// Why [`on_deep_stack`] gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeepStackError {
    /// The source is longer than [`MAX_COMPILED_BYTES`].
    #[error("the code is {len} bytes; at most {MAX_COMPILED_BYTES} bytes are compiled")]
    TooLarge {
        /// The source's length in bytes.
        len: usize,
    },
    /// The compiler panicked, or no thread could be started for it.
    #[error("the compiler failed on this code")]
    Failed,
}

/// The stack a compile of `source_len` bytes runs on.
fn stack_for(source_len: usize) -> Result<usize, DeepStackError> {
    if source_len > MAX_COMPILED_BYTES {
        return Err(DeepStackError::TooLarge { len: source_len });
    }
    Ok(BASE_STACK_BYTES + source_len * STACK_PER_SOURCE_BYTE)
}

/// At most one compile on a thread of its own per core at a time: each may
/// hold a large stack.
struct Gate {
    running: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

impl Gate {
    fn get() -> &'static Gate {
        static GATE: OnceLock<Gate> = OnceLock::new();
        GATE.get_or_init(|| Gate {
            running: Mutex::new(0),
            freed: Condvar::new(),
            max: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        })
    }

    fn enter(&'static self) -> Option<Pass> {
        let mut running = self.running.lock().ok()?;
        while *running >= self.max {
            running = self.freed.wait(running).ok()?;
        }
        *running += 1;
        Some(Pass(self))
    }
}

/// One compile's place in the [`Gate`], given back on drop.
struct Pass(&'static Gate);

impl Drop for Pass {
    fn drop(&mut self) {
        if let Ok(mut running) = self.0.running.lock() {
            *running -= 1;
        }
        self.0.freed.notify_one();
    }
}

/// The stack of the pooled compiler threads, which take every compile whose
/// worst case fits it (sources up to about 30 KB, nearly all code): a
/// thread of its own per compile costs a few hundred microseconds. Touched
/// pages stay committed, at most this much per pool thread.
const POOL_STACK_BYTES: usize = 64 << 20;

type Job = Box<dyn FnOnce() + Send>;

/// The pool's queue, started on first use: one thread per core.
fn pool() -> Option<&'static Mutex<SyncSender<Job>>> {
    static POOL: OnceLock<Option<Mutex<SyncSender<Job>>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = sync_channel::<Job>(64);
        let rx: &'static Mutex<Receiver<Job>> = Box::leak(Box::new(Mutex::new(rx)));
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let started = (0..threads)
            .filter(|i| {
                std::thread::Builder::new()
                    .name(format!("isola-compile-{i}"))
                    .stack_size(POOL_STACK_BYTES)
                    .spawn(move || {
                        // The lock is released before the job runs.
                        while let Some(job) = rx.lock().ok().and_then(|rx| rx.recv().ok()) {
                            job();
                        }
                    })
                    .is_ok()
            })
            .count();
        (started > 0).then(|| Mutex::new(tx))
    })
    .as_ref()
}

/// Runs `f`, a compile of `source_len` bytes of guest code, on a thread
/// whose stack is sized for the worst case of that many bytes (see
/// [`STACK_PER_SOURCE_BYTE`]), and waits for it: a pooled thread when its
/// stack is enough, else a thread of its own. A panic becomes
/// [`DeepStackError::Failed`]; sources too long to be sure of are refused.
pub fn on_deep_stack<T: Send + 'static>(
    source_len: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DeepStackError> {
    let stack = stack_for(source_len)?;
    if stack <= POOL_STACK_BYTES {
        let (reply, answer) = sync_channel(1);
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = reply.send(outcome.ok());
        });
        let queue = pool().ok_or(DeepStackError::Failed)?;
        queue
            .lock()
            .map_err(|_| DeepStackError::Failed)?
            .send(job)
            .map_err(|_| DeepStackError::Failed)?;
        return answer.recv().ok().flatten().ok_or(DeepStackError::Failed);
    }
    let _pass = Gate::get().enter().ok_or(DeepStackError::Failed)?;
    let thread = std::thread::Builder::new()
        .name("isola-compile".into())
        .stack_size(stack)
        .spawn(f)
        .map_err(|_| DeepStackError::Failed)?;
    thread.join().map_err(|_| DeepStackError::Failed)
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
    fn a_panic_on_the_deep_stack_is_an_error() {
        assert_eq!(on_deep_stack(0, || 41 + 1), Ok(42));
        assert_eq!(
            on_deep_stack(0, || -> u8 { panic!("compiler bug") }),
            Err(DeepStackError::Failed)
        );
        assert_eq!(on_deep_stack(100, || 7), Ok(7));
        // Past the pool's stack: a thread of its own, with the same contract.
        let large = (POOL_STACK_BYTES / STACK_PER_SOURCE_BYTE) * 2;
        assert_eq!(on_deep_stack(large, || 8), Ok(8));
        assert_eq!(
            on_deep_stack(large, || -> u8 { panic!("compiler bug") }),
            Err(DeepStackError::Failed)
        );
    }

    #[test]
    fn sources_beyond_the_largest_stack_are_refused() {
        assert_eq!(
            on_deep_stack(MAX_COMPILED_BYTES + 1, || ()),
            Err(DeepStackError::TooLarge {
                len: MAX_COMPILED_BYTES + 1
            })
        );
        assert!(stack_for(MAX_COMPILED_BYTES).is_ok_and(|s| s <= MAX_STACK_BYTES));
    }
}
