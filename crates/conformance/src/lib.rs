//! Conformance runners for isola. The runners are test binaries
//! (`tests/test262.rs`); this library holds what they share.

pub mod expectations;
pub mod frontmatter;
