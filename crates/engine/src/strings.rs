//! Strings out of the engine: a JS string as Rust UTF-8, and a thrown
//! value's short description.

use crate::value::Value;

/// A JS string as Rust UTF-8, lone surrogates replaced by U+FFFD (what
/// `TextEncoder` does), embedded NULs kept.
pub(crate) fn js_string(s: &rquickjs::String<'_>) -> rquickjs::Result<String> {
    let ctx = s.ctx();
    let mut len = 0;
    // SAFETY: `s` is a live string of `ctx`; QuickJS returns a buffer of
    // `len` bytes that is copied and then freed with `JS_FreeCString`.
    #[allow(unsafe_code)]
    let mut bytes = unsafe {
        let ptr = rquickjs::qjs::JS_ToCStringLen(ctx.as_raw().as_ptr(), &raw mut len, s.as_raw());
        if ptr.is_null() {
            return Err(rquickjs::Error::Exception);
        }
        let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len).to_vec();
        rquickjs::qjs::JS_FreeCString(ctx.as_raw().as_ptr(), ptr);
        bytes
    };
    Ok(wtf8_to_utf8(&mut bytes))
}

/// QuickJS encodes unpaired surrogates as three-byte sequences (WTF-8);
/// each becomes U+FFFD, which is also three bytes long.
fn wtf8_to_utf8(bytes: &mut [u8]) -> String {
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == 0xED
            && (0xA0..=0xBF).contains(&bytes[i + 1])
            && (0x80..=0xBF).contains(&bytes[i + 2])
        {
            bytes[i..i + 3].copy_from_slice("\u{FFFD}".as_bytes());
            i += 3;
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
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

#[cfg(test)]
mod tests {
    #[test]
    fn unpaired_surrogates_become_replacement_characters() {
        let mut wtf8 = vec![b'a', 0xED, 0xA0, 0x80, b'b'];
        assert_eq!(super::wtf8_to_utf8(&mut wtf8), "a\u{FFFD}b");
        let mut fine = "☃\0x".as_bytes().to_vec();
        assert_eq!(super::wtf8_to_utf8(&mut fine), "☃\0x");
    }
}
