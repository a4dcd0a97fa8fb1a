//! `multipart/form-data` bodies (RFC 7578), for `Request`/`Response`
//! `.formData()`: split on the boundary, read each part's
//! `Content-Disposition` and `Content-Type`, keep the bytes.

/// One part of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: String,
    /// Present for file parts.
    pub(crate) filename: Option<String>,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let (essence, params) = content_type.split_once(';')?;
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params_of(params)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// `key=value` parameters after a header's first `;`, values unquoted.
fn params_of(input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        if rest.is_empty() {
            return out;
        }
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let key = rest[..eq].trim().to_owned();
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            text.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => text.push(c),
                }
            }
            value = text;
            rest = &quoted[end.min(quoted.len())..];
            rest = rest.split_once(';').map_or("", |(_, r)| r);
        } else {
            let (v, r) = rest.split_once(';').unwrap_or((rest, ""));
            value = v.trim().to_owned();
            rest = r;
        }
        out.push((key, value));
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Percent-decodes the `%22`, `%0D` and `%0A` that the HTML spec's encoder
/// writes into names and filenames; other text is kept as is.
fn unescape_name(name: &str) -> String {
    name.replace("%22", "\"")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
}

/// Parses a body; `None` if it is not well-formed multipart.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let close = [b"\r\n".as_slice(), delimiter].concat();
    // The first delimiter may follow a preamble.
    let mut at = if body.starts_with(delimiter) {
        0
    } else {
        find(body, &close, 0)? + 2
    };
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Some(parts);
        }
        // Transport padding, then CRLF.
        while matches!(body.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        if !body[at..].starts_with(b"\r\n") {
            return None;
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at.checked_sub(2)?)?;
        let head = if headers_end <= at {
            ""
        } else {
            std::str::from_utf8(&body[at..headers_end]).ok()?
        };
        let mut name = None;
        let mut filename = None;
        let mut content_type = String::new();
        for line in head.split("\r\n").filter(|l| !l.is_empty()) {
            let (key, value) = line.split_once(':')?;
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                let (kind, params) = value.split_once(';').unwrap_or((value, ""));
                if !kind.trim().eq_ignore_ascii_case("form-data") {
                    return None;
                }
                for (k, v) in params_of(params) {
                    if k.eq_ignore_ascii_case("name") {
                        name = Some(unescape_name(&v));
                    } else if k.eq_ignore_ascii_case("filename") {
                        filename = Some(unescape_name(&v));
                    }
                }
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                value.trim().clone_into(&mut content_type);
            }
        }
        let start = headers_end + 4;
        let end = find(body, &close, start)?;
        parts.push(Part {
            name: name?,
            filename,
            content_type,
            body: body[start..end].to_vec(),
        });
        at = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_files() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f%22\"; filename=\"x \\\"y\\\".txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--XyZ--\r\n";
        let parts = parse(body, "XyZ").expect("well-formed");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "a");
        assert_eq!(parts[0].body, b"1");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[1].name, "f\"");
        assert_eq!(parts[1].filename.as_deref(), Some("x \"y\".txt"));
        assert_eq!(parts[1].content_type, "text/plain");
        assert_eq!(parts[1].body, b"line1\r\nline2");
    }

    #[test]
    fn rejects_malformed_bodies() {
        assert_eq!(
            parse(
                b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno close",
                "b"
            ),
            None
        );
        assert_eq!(
            parse(
                b"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--",
                "b"
            ),
            None
        );
        assert_eq!(
            parse(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b"),
            None
        );
        assert_eq!(parse(b"nothing here", "b"), None);
        assert_eq!(parse(b"--b", "b"), None);
    }

    #[test]
    fn reads_the_boundary_parameter() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("text/plain; boundary=abc"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
