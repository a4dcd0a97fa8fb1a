//! JavaScript identifiers: checking names a host gives, and making safe
//! identifiers from names an upstream sends.

/// Words that cannot name a binding in a module (strict mode), plus the
/// names that would shadow what every program relies on.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
    "default", "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally",
    "for", "function", "if", "implements", "import", "in", "instanceof", "interface", "let", "new",
    "null", "package", "private", "protected", "public", "return", "static", "super", "switch",
    "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "undefined",
    "NaN", "Infinity", "globalThis", "console", "Object", "Array", "Promise", "JSON", "Math",
    "Error", "String", "Number", "Boolean", "Symbol", "Date", "RegExp", "Map", "Set", "Reflect",
    "Proxy", "fetch",
];

/// Whether `name` is a reserved word or a global that must not be shadowed.
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// Whether `name` is an ASCII JavaScript identifier (`[A-Za-z_$][A-Za-z0-9_$]*`).
///
/// Non-ASCII identifiers are valid JavaScript but are refused here: they
/// make look-alike names possible in generated declarations.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Why a name cannot be used as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not an identifier.
    #[error(
        "{kind} name {name:?} is not a JavaScript identifier (letters, digits, _ and $, not starting with a digit)"
    )]
    NotIdentifier {
        /// What the name names, e.g. `namespace`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A reserved word or a global every program relies on.
    #[error("{kind} name {name:?} is reserved")]
    Reserved {
        /// What the name names.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// Used twice.
    #[error("{kind} name {name:?} is used more than once")]
    Duplicate {
        /// What the name names.
        kind: &'static str,
        /// The name.
        name: String,
    },
}

/// Checks a name a host chose: it must be an identifier and not reserved.
pub fn check_identifier(kind: &'static str, name: &str) -> Result<(), NameError> {
    if !is_identifier(name) {
        return Err(NameError::NotIdentifier {
            kind,
            name: name.to_owned(),
        });
    }
    if is_reserved(name) {
        return Err(NameError::Reserved {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Words that cannot name a function or binding in strict-mode code, plus
/// `undefined` and `__proto__`, which would not behave as a plain member.
///
/// This is narrower than [`is_reserved`]: a tool called `fetch` or `Map`
/// keeps its name, since tools are only reached as `namespace.tool`.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
    "default", "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally",
    "for", "function", "if", "implements", "import", "in", "instanceof", "interface", "let", "new",
    "null", "package", "private", "protected", "public", "return", "static", "super", "switch",
    "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "undefined",
    "__proto__",
];

/// Whether `name` is a keyword (or `undefined`/`__proto__`) that [`sanitize`]
/// suffixes with `_`.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Makes an identifier from a name an upstream sent, e.g. a tool name.
///
/// Every character other than ASCII letters, digits, `_` and `$` becomes `_`
/// (one `_` per character, so `a-b` and `a.b` both become `a_b`: callers
/// must check for collisions); a leading digit gets a `_` prefix; a keyword
/// gets a `_` suffix; the empty name becomes `_`.
///
/// The result satisfies [`is_identifier`] and not [`is_keyword`]; it may be
/// a global such as `fetch`, which is fine for a member of a namespace.
///
/// ```
/// use isola_codemode::names::sanitize;
/// assert_eq!(sanitize("get-user"), "get_user");
/// assert_eq!(sanitize("2fa"), "_2fa");
/// assert_eq!(sanitize("delete"), "delete_");
/// assert_eq!(sanitize("a.b c"), "a_b_c");
/// assert_eq!(sanitize(""), "_");
/// assert_eq!(sanitize("café"), "caf_");
/// ```
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        return "_".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// A PascalCase type-name stem from any name: words are split at every
/// character other than ASCII letters, digits and `$`, and each word's first
/// letter is upper-cased (`get_user` → `GetUser`, `models.User` →
/// `ModelsUser`). A stem that would be empty or start with a digit gets a
/// `_` prefix, so the result is always an identifier.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !(c.is_ascii_alphanumeric() || c == '$')) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_examples() {
        let cases = [
            ("get-user", "get_user"),
            ("2fa", "_2fa"),
            ("delete", "delete_"),
            ("a.b c", "a_b_c"),
            ("", "_"),
            ("é", "_"),
            ("naïve", "na_ve"),
            ("fetch", "fetch"),
            ("$ok", "$ok"),
            ("__proto__", "__proto___"),
            ("tab\tnew\nline", "tab_new_line"),
            ("\"quoted\"", "_quoted_"),
            ("*/", "__"),
        ];
        for (name, want) in cases {
            let got = sanitize(name);
            assert_eq!(got, want, "sanitize({name:?})");
            assert!(is_identifier(&got) && !is_keyword(&got), "{got:?}");
        }
        for word in KEYWORDS {
            assert_eq!(sanitize(word), format!("{word}_"));
        }
    }

    #[test]
    fn pascal_case_examples() {
        let cases = [
            ("get_user", "GetUser"),
            ("getUser", "GetUser"),
            ("models.User", "ModelsUser"),
            ("_2fa", "_2fa"),
            ("2fa", "_2fa"),
            ("_", "_"),
            ("", "_"),
            ("Адрес", "_"),
            ("delete_", "Delete"),
            ("$ref", "$ref"),
        ];
        for (name, want) in cases {
            assert_eq!(pascal_case(name), want, "pascal_case({name:?})");
        }
    }
}
