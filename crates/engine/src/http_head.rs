//! Checks, in Rust, of the response head a guest hands the host.
//!
//! The glue JavaScript validates a `Response` when it is constructed, but
//! that code runs among guest-patchable built-ins (a replaced
//! `RegExp.prototype.exec` changes what a regular expression accepts), and
//! the ops it sends can be forged. What reaches the host's HTTP server or a
//! terminal is checked again here, where the guest cannot reach.

/// A response status: the Fetch standard's 200 to 599, and 101 for an
/// upgrade.
pub(crate) fn status(value: f64) -> Result<u16, String> {
    if value.fract() == 0.0 && (value == 101.0 || (200.0..=599.0).contains(&value)) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Ok(value as u16);
    }
    Err(format!(
        "The status provided ({value}) is outside the range [200, 599]."
    ))
}

/// A reason phrase (RFC 9110: tab, space, visible ASCII, obs-text).
pub(crate) fn reason_phrase(text: &str) -> Result<(), String> {
    if text
        .chars()
        .all(|c| matches!(c, '\t' | ' '..='~' | '\u{80}'..='\u{ff}'))
    {
        Ok(())
    } else {
        Err("Invalid statusText".into())
    }
}

/// A header field name: an HTTP token.
pub(crate) fn header_name(name: &str) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !name.is_empty() && name.chars().all(token) {
        Ok(())
    } else {
        Err("Invalid header name.".into())
    }
}

/// A header field value: a byte string without NUL, CR or LF.
pub(crate) fn header_value(value: &str) -> Result<(), String> {
    if value
        .chars()
        .all(|c| c <= '\u{ff}' && !matches!(c, '\0' | '\r' | '\n'))
    {
        Ok(())
    } else {
        Err("Invalid header value.".into())
    }
}

/// Every header of a list.
pub(crate) fn headers(list: &[(String, String)]) -> Result<(), String> {
    list.iter()
        .try_for_each(|(name, value)| header_name(name).and_then(|()| header_value(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_outside_the_fetch_range_are_refused() {
        assert_eq!(status(200.0), Ok(200));
        assert_eq!(status(599.0), Ok(599));
        assert_eq!(status(101.0), Ok(101));
        for bad in [0.0, 199.0, 600.0, 65_736.0, 200.5, f64::NAN, -200.0] {
            assert!(status(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_never_pass() {
        assert!(reason_phrase("Not Found\tÿ").is_ok());
        for bad in ["a\u{1b}[2J", "a\r\nb", "a\0", "a\u{7f}", "\u{100}"] {
            assert!(reason_phrase(bad).is_err(), "{bad:?}");
        }
        assert!(header_name("x-ok").is_ok());
        for bad in ["", "a b", "a:b", "é", "a\n"] {
            assert!(header_name(bad).is_err(), "{bad:?}");
        }
        assert!(header_value("a b\tc ÿ").is_ok());
        for bad in ["a\rb", "a\nb", "a\0", "\u{100}"] {
            assert!(header_value(bad).is_err(), "{bad:?}");
        }
    }
}
