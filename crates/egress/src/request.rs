//! The guest's method and headers, validated once before anything leaves:
//! a CR, LF or NUL could split a request line or smuggle a header.

use crate::error::EgressError;

/// Headers the egress layer writes itself (framing, routing, connection
/// management); a guest's values for them are dropped.
const CONTROLLED: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// Headers that carry credentials: dropped when a redirect leaves the
/// origin they were meant for.
pub(crate) const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Headers that describe a body: dropped when a redirect turns the request
/// into a body-less GET (Fetch standard, "request-body-header name").
pub(crate) const BODY_HEADERS: [&str; 4] = [
    "content-type",
    "content-encoding",
    "content-language",
    "content-location",
];

/// RFC 9110 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value with no CR, LF, NUL or other control character but tab.
pub(crate) fn valid_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// The method, upper-cased when it is one of the methods the Fetch
/// standard normalises; CONNECT, TRACE and TRACK are forbidden.
pub(crate) fn method(method: &str) -> Result<String, EgressError> {
    if !is_token(method) {
        return Err(EgressError::Method);
    }
    let upper = method.to_ascii_uppercase();
    if ["CONNECT", "TRACE", "TRACK"].contains(&upper.as_str()) {
        return Err(EgressError::ForbiddenMethod(upper));
    }
    Ok(
        if ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"].contains(&upper.as_str()) {
            upper
        } else {
            method.to_owned()
        },
    )
}

/// The guest's headers, names lower-cased, with the controlled ones
/// dropped; any invalid name or value refuses the whole request.
pub(crate) fn headers(
    headers: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, EgressError> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if !is_token(&name) {
            return Err(EgressError::HeaderName);
        }
        let name = name.to_ascii_lowercase();
        if !valid_value(&value) {
            return Err(EgressError::HeaderValue(name));
        }
        if CONTROLLED.contains(&name.as_str()) {
            continue;
        }
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(method("get").ok().as_deref(), Some("GET"));
        assert_eq!(method("patch").ok().as_deref(), Some("PATCH"));
        assert_eq!(method("PROPFIND").ok().as_deref(), Some("PROPFIND"));
        assert_eq!(method("custom").ok().as_deref(), Some("custom"));
        for bad in ["", "GE T", "GET\r\nX: y", "GET\n", "G\0T", "GÉT", "GET/"] {
            assert!(matches!(method(bad), Err(EgressError::Method)), "{bad:?}");
        }
        for bad in ["CONNECT", "connect", "TRACE", "track"] {
            assert!(
                matches!(method(bad), Err(EgressError::ForbiddenMethod(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn header_names_and_values() {
        let h = |n: &str, v: &str| headers(vec![(n.into(), v.into())]);
        assert_eq!(
            h("X-Trace", "a\tb é").ok(),
            Some(vec![("x-trace".into(), "a\tb é".into())])
        );
        for bad in ["", "bad name", "x:y", "x\r\ny", "x\0", "é"] {
            assert!(
                matches!(h(bad, "v"), Err(EgressError::HeaderName)),
                "{bad:?}"
            );
        }
        for bad in ["v\r\nevil: 1", "v\nx", "v\rx", "a\0b", "\x7f", "\x01"] {
            assert!(
                matches!(h("x-a", bad), Err(EgressError::HeaderValue(_))),
                "{bad:?}"
            );
        }
        for dropped in [
            "Host",
            "content-length",
            "Transfer-Encoding",
            "connection",
            "upgrade",
        ] {
            assert_eq!(h(dropped, "x").ok(), Some(vec![]), "{dropped}");
        }
    }
}
