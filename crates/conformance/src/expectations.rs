//! Committed expectation files: the known failures of a suite, one id per
//! line (`<id>  # reason`). A run fails on a failure that is not listed and
//! on a listed id that did not fail, so the file stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

/// Reads the ids of a list (comments and blank lines skipped); also used
/// for plain lists such as excluded features.
pub fn read(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split("  # ").next().unwrap_or("").trim_end().to_owned())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Ends a run: with `bless` set, rewrites the list from `failures`;
/// otherwise compares and prints `N passed, N failed` (failed = surprises).
pub fn finish(
    suite: &str,
    list: &Path,
    failures: &BTreeMap<String, String>,
    passed: usize,
    bless: bool,
) -> ExitCode {
    let name = list
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if bless {
        let mut text = format!(
            "# {suite}: known failures, `<id>  # reason`. Regenerate after review with the runner's BLESS variable.\n"
        );
        for (id, reason) in failures {
            let reason: String = reason
                .chars()
                .take(120)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            text.push_str(&format!("{id}  # {reason}\n"));
        }
        if let Err(e) = std::fs::write(list, text) {
            eprintln!("{suite}: cannot write {}: {e}", list.display());
            return ExitCode::FAILURE;
        }
        println!("{suite}: wrote {} expected failures", failures.len());
        return ExitCode::SUCCESS;
    }
    let expected = read(list);
    let unexpected: Vec<_> = failures
        .iter()
        .filter(|(id, _)| !expected.contains(*id))
        .collect();
    let fixed: Vec<_> = expected
        .iter()
        .filter(|id| !failures.contains_key(*id))
        .collect();
    for (id, reason) in &unexpected {
        println!("UNEXPECTED FAILURE {id}: {reason}");
    }
    for id in &fixed {
        println!("NOW PASSES OR GONE (remove from {name}): {id}");
    }
    println!(
        "{suite}: {} known failures (listed in {name})",
        failures.len() - unexpected.len()
    );
    println!(
        "{} passed, {} failed",
        passed,
        unexpected.len() + fixed.len()
    );
    if unexpected.is_empty() && fixed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
