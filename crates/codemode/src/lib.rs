//! Code Mode on isola.
//!
//! Instead of calling tools one at a time, an agent is given a typed API and
//! writes a short program against it; the program runs in a fresh isolate
//! whose only reach is the tools it was given. This crate holds the pieces
//! every front end needs:
//!
//! - [`normalize`]: turns what models actually send (fenced code, a bare
//!   body, `export default`, TypeScript) into one async function expression;
//! - [`types`]: JSON Schema → TypeScript declarations, one namespace per
//!   tool provider, with names made safe;
//! - [`Executor`]: runs normalized code with providers as namespaces under
//!   CPU, memory, wall and tool-call limits, and reports `{result, error, logs}`.

mod executor;
pub mod names;
pub mod normalize;
pub mod types;

pub use executor::*;
