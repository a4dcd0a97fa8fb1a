//! `search`: which declarations an agent should read for a query.
//!
//! Ranking is lexical and explainable: the query is split into words
//! (lower-cased, `camelCase` and `snake_case` split too); a word matching
//! a tool's name scores highest, then its description, then the rest of its
//! declaration (parameter names and docs). Ties keep upstream order.

use isola_codemode::types::NamespaceTypes;

/// One namespace as `search` sees it.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    /// Its declarations.
    pub types: &'a NamespaceTypes,
    /// Why it is unavailable, if it is.
    pub error: Option<&'a str>,
}

/// The most results one search returns.
pub const MAX_LIMIT: usize = 50;
/// Results when the query does not say.
pub const DEFAULT_LIMIT: usize = 8;

/// The answer to `search`: matching declarations, best first, as text an
/// agent reads. An empty query lists every namespace and tool.
pub fn search(query: &str, catalogs: &[Listing<'_>], limit: usize) -> String {
    let limit = limit.clamp(1, MAX_LIMIT);
    let words = words(query);
    if words.is_empty() {
        return overview(catalogs);
    }
    let mut hits = Vec::new();
    let mut order = 0usize;
    for catalog in catalogs {
        for tool in &catalog.types.tools {
            order += 1;
            let name = words_of(&tool.ident, &tool.name);
            let description = tool.description.as_deref().unwrap_or("").to_lowercase();
            let declaration = tool.declaration.to_lowercase();
            let namespace = catalog.types.namespace.to_lowercase();
            let mut score = 0u32;
            for word in &words {
                if name.iter().any(|n| n == word) {
                    score += 12;
                } else if name.iter().any(|n| n.contains(word.as_str())) {
                    score += 8;
                }
                if namespace == *word {
                    score += 3;
                }
                if description.contains(word.as_str()) {
                    score += 4;
                } else if declaration.contains(word.as_str()) {
                    score += 1;
                }
            }
            if score > 0 {
                hits.push((score, order, catalog.types.namespace.as_str(), tool));
            }
        }
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Weak matches next to strong ones only cost the agent tokens.
    let best = hits.first().map_or(0, |h| h.0);
    hits.retain(|h| h.0 * 3 >= best);
    if hits.is_empty() {
        return format!(
            "// No tool matches {query:?}. Search with other words, or with an empty query to list every tool.\n\n{}",
            overview(catalogs)
        );
    }
    let total = hits.len();
    let mut out = format!(
        "// {} of {total} matching tools, best first. Call them inside `execute` as `await <namespace>.<tool>(input)`.\n",
        total.min(limit)
    );
    for (_, _, namespace, tool) in hits.into_iter().take(limit) {
        out.push_str(&format!("\n// {namespace}.{}\n", tool.ident));
        out.push_str(tool.declaration.trim_end());
        out.push('\n');
    }
    out
}

/// Every namespace with its tools and the first line of each description.
pub fn overview(catalogs: &[Listing<'_>]) -> String {
    let mut out = String::new();
    for catalog in catalogs {
        let namespace = &catalog.types.namespace;
        match catalog.error {
            Some(error) if catalog.types.tools.is_empty() => {
                out.push_str(&format!(
                    "// {namespace}: unavailable ({})\n",
                    one_line(error)
                ));
            }
            _ => {
                out.push_str(&format!(
                    "// {namespace}: {} tools\n",
                    catalog.types.tools.len()
                ));
                for tool in &catalog.types.tools {
                    let summary = tool
                        .description
                        .as_deref()
                        .map(one_line)
                        .unwrap_or_default();
                    out.push_str(&format!("//   {namespace}.{}  {summary}\n", tool.ident));
                }
            }
        }
    }
    if out.is_empty() {
        out.push_str("// No upstream tools are configured.\n");
    }
    out
}

/// The first line of `text`, kept short, with nothing that could end a
/// `//` comment line.
pub(crate) fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut short: String = line.chars().filter(|c| !c.is_control()).take(100).collect();
    if line.chars().count() > 100 {
        short.push('…');
    }
    short
}

/// Words too common to say anything about a tool.
const STOP_WORDS: &[&str] = &[
    "an", "the", "of", "to", "for", "in", "on", "and", "or", "by", "with", "is", "it", "from",
    "at", "as", "be", "that", "this", "me", "my", "all", "some", "any",
];

/// Lower-case words of a query: split on anything not alphanumeric and at
/// `camelCase` boundaries.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
            current.extend(c.to_lowercase());
        } else {
            previous_lower = false;
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.retain(|w| {
        (w.len() > 1 || w.chars().all(|c| c.is_ascii_digit())) && !STOP_WORDS.contains(&w.as_str())
    });
    words.dedup();
    words
}

/// The words of a tool's names, plus each name whole.
fn words_of(ident: &str, name: &str) -> Vec<String> {
    let mut all = words(ident);
    all.extend(words(name));
    all.push(ident.to_lowercase());
    all.push(name.to_lowercase());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_split_on_case_and_punctuation() {
        assert_eq!(words("getUser by-ID"), ["get", "user", "id"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(words("list_issues v2"), ["list", "issues", "v2"]);
    }

    #[test]
    fn one_line_keeps_the_first_line_short_and_inert() {
        assert_eq!(one_line("\n  Adds numbers.\nMore."), "Adds numbers.");
        assert_eq!(one_line("a\u{7}b"), "ab");
        assert_eq!(one_line(&"x".repeat(150)).chars().count(), 101);
    }
}
