//! Rust halves of the Web APIs: URL parsing by the `url` crate, text helpers.

use crate::value::Value;

/// `[href, origin, protocol, username, password, host, hostname, port,
/// pathname, search, hash]`, or `None` if the input does not parse.
pub(crate) fn parse_url(input: &str, base: Option<&str>) -> Option<Vec<String>> {
    let parsed = match base {
        Some(base) => url::Url::parse(base).ok()?.join(input).ok()?,
        None => url::Url::parse(input).ok()?,
    };
    Some(parts(&parsed))
}

fn parts(u: &url::Url) -> Vec<String> {
    let search = match u.query() {
        Some(q) if !q.is_empty() => format!("?{q}"),
        _ => String::new(),
    };
    let hash = match u.fragment() {
        Some(f) if !f.is_empty() => format!("#{f}"),
        _ => String::new(),
    };
    vec![
        u.as_str().to_owned(),
        u.origin().ascii_serialization(),
        format!("{}:", u.scheme()),
        u.username().to_owned(),
        u.password().unwrap_or("").to_owned(),
        url::quirks::host(u).to_owned(),
        url::quirks::hostname(u).to_owned(),
        url::quirks::port(u).to_owned(),
        url::quirks::pathname(u).to_owned(),
        search,
        hash,
    ]
}

/// Applies a setter; `None` when the setter must throw (only `href`) or the
/// base URL does not parse.
pub(crate) fn set_url_part(href: &str, part: &str, value: &str) -> Option<Vec<String>> {
    let mut u = url::Url::parse(href).ok()?;
    match part {
        "href" => u = url::Url::parse(value).ok()?,
        "protocol" => {
            let _ = url::quirks::set_protocol(&mut u, value);
        }
        "username" => {
            let _ = url::quirks::set_username(&mut u, value);
        }
        "password" => {
            let _ = url::quirks::set_password(&mut u, value);
        }
        "host" => {
            let _ = url::quirks::set_host(&mut u, value);
        }
        "hostname" => {
            let _ = url::quirks::set_hostname(&mut u, value);
        }
        "port" => {
            let _ = url::quirks::set_port(&mut u, value);
        }
        "pathname" => url::quirks::set_pathname(&mut u, value),
        "search" => url::quirks::set_search(&mut u, value),
        "hash" => url::quirks::set_hash(&mut u, value),
        _ => return None,
    }
    Some(parts(&u))
}

/// A JS string as Rust UTF-8, lone surrogates replaced by U+FFFD (what
/// `TextEncoder` does).
pub(crate) fn utf16_lossy(s: &rquickjs::String<'_>) -> rquickjs::Result<String> {
    s.to_string()
}

/// A short description of a thrown non-error value.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::BigInt(d) => format!("{d}n"),
        Value::String(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}
