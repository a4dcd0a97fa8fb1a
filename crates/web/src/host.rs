//! The host functions of the web platform: encodings, URL and form
//! parsing, randomness, `multipart/form-data`, compression, Web Crypto, and
//! the loading of the web platform's glue chunks.

use base64::Engine as _;
use isola_engine::rquickjs;
use isola_engine::rquickjs::{Array, Ctx, Exception, TypedArray, Value as JsValue};

use crate::compression::CodecState;
use crate::text::TextDecoderState;
use isola_engine::HostCall;

/// The largest buffer `crypto.getRandomValues` fills, per the Web Crypto spec.
const RANDOM_VALUES_QUOTA: usize = 65_536;

/// `host.btoa(string)`.
pub(crate) fn btoa<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let input = host.string(0)?;
    // The input, its bytes and the encoding.
    host.charge(input.len().saturating_mul(4))?;
    let mut bytes = Vec::with_capacity(input.len());
    for c in input.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => bytes.push(b),
            Err(_) => {
                return Err(host.throw_error("InvalidCharacterError", "Invalid character"));
            }
        }
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(rquickjs::String::from_str(ctx, &encoded)?.into_value())
}

/// `host.atob(string)`: forgiving base64.
pub(crate) fn atob<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let input = host.string(0)?;
    // The input, the decoded bytes and their Latin-1 text.
    host.charge(input.len().saturating_mul(3))?;
    match forgiving_base64_decode(&input) {
        Some(bytes) => {
            let latin1: String = bytes.into_iter().map(char::from).collect();
            Ok(rquickjs::String::from_str(ctx, &latin1)?.into_value())
        }
        None => Err(host.throw_error(
            "InvalidCharacterError",
            "The string to be decoded is not correctly encoded.",
        )),
    }
}

/// `host.getRandomValues(view)`: fills an integer view from the OS CSPRNG.
pub(crate) fn get_random_values<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    use isola_engine::TypedArrayKind::*;
    let target = host
        .arg(0)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    // Integer arrays only: float arrays, DataViews and non-views are
    // refused.
    let integer = matches!(
        host.view_kind(0),
        Some(
            Int8Array
                | Uint8Array
                | Uint8ClampedArray
                | Int16Array
                | Uint16Array
                | Int32Array
                | Uint32Array
                | BigInt64Array
                | BigUint64Array
        )
    );
    if !integer {
        return Err(host.throw_error(
            "TypeMismatchError",
            "The data argument must be an integer-type TypedArray",
        ));
    }
    let Some(len) = host.view_len(0)? else {
        return Err(Exception::throw_type(
            &ctx,
            "The array's buffer is detached",
        ));
    };
    if len > RANDOM_VALUES_QUOTA {
        return Err(host.throw_error(
            "QuotaExceededError",
            &format!(
                "The ArrayBufferView's byte length ({len}) exceeds the number of bytes of entropy available via this API ({RANDOM_VALUES_QUOTA})"
            ),
        ));
    }
    let mut fill = vec![0u8; len];
    getrandom::fill(&mut fill).map_err(|_| Exception::throw_internal(&ctx, "no OS randomness"))?;
    for chunk in fill.chunks_mut(8) {
        let r = host.random_u64().to_le_bytes();
        for (b, x) in chunk.iter_mut().zip(r) {
            *b ^= x;
        }
    }
    host.write_view(0, &fill)?;
    Ok(target)
}

/// `host.randomUUID()`: a version 4 UUID.
pub(crate) fn random_uuid<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| Exception::throw_internal(&ctx, "no OS randomness"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    Ok(rquickjs::String::from_str(ctx, &uuid)?.into_value())
}

/// `host.utf8Encode(string)`: `TextEncoder`.
pub(crate) fn utf8_encode<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let text = host.optional_string(0)?.unwrap_or_default();
    host.charge(text.len())?;
    Ok(TypedArray::<u8>::new(ctx, text.into_bytes())?.into_value())
}

/// `host.utf8Decode(bytes, fatal, ignoreBOM)`: one-shot `TextDecoder`.
pub(crate) fn utf8_decode<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let bytes = host.bytes(0).unwrap_or_default();
    // The bytes and their text (an invalid byte becomes three).
    host.charge(bytes.len().saturating_mul(4))?;
    let fatal = host.arg(1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = host.arg(2).and_then(JsValue::as_bool).unwrap_or(false);
    let body = if !ignore_bom && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        &bytes[3..]
    } else {
        &bytes[..]
    };
    let text = if fatal {
        std::str::from_utf8(body)
            .map_err(|_| {
                Exception::throw_type(&ctx, "The encoded data was not valid for encoding utf-8")
            })?
            .to_owned()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    Ok(rquickjs::String::from_str(ctx, &text)?.into_value())
}

/// `host.urlParse(input, base)`: WHATWG URL parsing, the parts as a list.
pub(crate) fn url_parse<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let input = host.string(0)?;
    let base = host
        .arg(1)
        .and_then(|v| v.as_string())
        .map(rquickjs::String::to_string)
        .transpose()?;
    match crate::text::parse_url(&input, base.as_deref()) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.urlSet(href, part, value)`: a URL setter, the new parts.
pub(crate) fn url_set<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let href = host.string(0)?;
    let part = host.string(1)?;
    let value = host.string(2)?;
    match crate::text::set_url_part(&href, &part, &value) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.formParse(string)`: `application/x-www-form-urlencoded` pairs.
pub(crate) fn form_parse<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let input = host.string(0)?;
    let list = Array::new(ctx.clone())?;
    for (i, (k, v)) in
        url::form_urlencoded::parse(input.strip_prefix('?').unwrap_or(&input).as_bytes())
            .enumerate()
    {
        let pair = Array::new(ctx.clone())?;
        pair.set(0, k.as_ref())?;
        pair.set(1, v.as_ref())?;
        list.set(i, pair)?;
    }
    Ok(list.into_value())
}

/// `host.formSerialize(pairs)`.
pub(crate) fn form_serialize<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let list = host
        .arg(0)
        .and_then(|v| v.clone().into_array())
        .ok_or_else(|| Exception::throw_type(&ctx, "isola: expected a list"))?;
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for pair in list.iter::<Array>() {
        let pair = pair?;
        let k: String = pair.get(0)?;
        let v: String = pair.get(1)?;
        out.append_pair(&k, &v);
    }
    Ok(rquickjs::String::from_str(ctx, &out.finish())?.into_value())
}

/// `host.decoderOpen(label, fatal, ignoreBOM)`: a streaming `TextDecoder`, counted against the isolate's decoders.
pub(crate) fn decoder_open<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let label = host.string(0)?;
    let fatal = host.arg(1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = host.arg(2).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(state) = crate::text::TextDecoderState::open(&label, fatal, ignore_bom) else {
        return Ok(JsValue::new_null(ctx));
    };
    let name = state.name();
    let handle = host.open_state(state)?.ok_or_else(|| {
        Exception::throw_range(&ctx, "Too many TextDecoders alive in this isolate.")
    })?;
    let pair = Array::new(ctx.clone())?;
    pair.set(0, handle)?;
    pair.set(1, name)?;
    Ok(pair.into_value())
}

/// `host.decoderDecode(handle, bytes, stream)`.
pub(crate) fn decoder_decode<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let bytes = host.bytes(1).unwrap_or_default();
    host.charge(bytes.len().saturating_mul(4))?;
    let stream = host.arg(2).and_then(JsValue::as_bool).unwrap_or(false);
    let decoded = host
        .with_state(0, |decoder: &mut TextDecoderState| {
            decoder.decode(&bytes, stream)
        })
        .ok_or_else(|| Exception::throw_type(&ctx, "Illegal invocation"))?;
    match decoded {
        Ok(text) => Ok(rquickjs::String::from_str(ctx, &text)?.into_value()),
        Err(()) => Err(Exception::throw_type(
            &ctx,
            "The encoded data was not valid for encoding",
        )),
    }
}

/// `host.subtle(operation, …)`: one `crypto.subtle` operation, run by `isola-webcrypto`.
pub(crate) fn subtle<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let op = host.string(0)?;
    let params = host.read(1)?;
    // Long operations look at the limits between units of work; when
    // one fired, the dispatcher turns the result into the stop.
    let interrupt = || host.interrupted();
    match crate::subtle::run(&op, params, &interrupt) {
        Ok(value) => host.write(&value),
        Err(e) if e.name == "TypeError" => Err(Exception::throw_type(&ctx, &e.message)),
        Err(e) => Err(host.throw_error(e.name, &e.message)),
    }
}

/// `host.multipartParse(bytes, contentType)`: a `multipart/form-data` body's parts.
pub(crate) fn multipart_parse<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let body = host.bytes(0).unwrap_or_default();
    // The body and its parts.
    host.charge(body.len().saturating_mul(2))?;
    let content_type = host.string(1)?;
    let parts = crate::multipart::boundary(&content_type)
        .and_then(|boundary| crate::multipart::parse(&body, &boundary));
    let Some(parts) = parts else {
        return Ok(JsValue::new_null(ctx));
    };
    let list = Array::new(ctx.clone())?;
    for (i, part) in parts.into_iter().enumerate() {
        let entry = Array::new(ctx.clone())?;
        entry.set(0, part.name)?;
        match part.filename {
            Some(filename) => {
                entry.set(1, TypedArray::<u8>::new(ctx.clone(), part.body)?)?;
                entry.set(2, filename)?;
                entry.set(3, part.content_type)?;
            }
            None => entry.set(1, String::from_utf8_lossy(&part.body).into_owned())?,
        }
        list.set(i, entry)?;
    }
    Ok(list.into_value())
}

/// `host.compressionOpen(format, compress)`: a `CompressionStream` or
/// `DecompressionStream` codec, counted against the isolate's codecs.
pub(crate) fn compression_open<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    let format = host.string(0)?;
    let compress = host.arg(1).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(format) = crate::compression::Format::parse(&format) else {
        return Err(Exception::throw_type(
            &ctx,
            &format!("Unsupported compression format: '{format}'"),
        ));
    };
    let cap = crate::compression::decompressed_cap(host.memory_limit());
    let state = crate::compression::CodecState::new(format, compress, cap);
    host.open_state(state)?.ok_or_else(|| {
        Exception::throw_range(
            &ctx,
            "Too many open CompressionStreams and DecompressionStreams in this isolate.",
        )
    })
}

/// `host.compressionWrite(handle, bytes)`: the output so far.
pub(crate) fn compression_write<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let chunk = host.arg(1).is_some_and(|v| !v.is_undefined());
    let bytes = if chunk { host.bytes(1) } else { None };
    codec_pull(host, bytes, false)
}

/// `host.compressionFinish(handle)`: the last output.
pub(crate) fn compression_finish<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    codec_pull(host, None, true)
}

/// `host.compressionClose(handle)`.
pub(crate) fn compression_close<'js>(host: &HostCall<'_, 'js>) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx().clone();
    host.close_state(0);
    Ok(JsValue::new_undefined(ctx))
}

/// Feeds `bytes` (if any) to a compression state and returns its next
/// output slice, or null when it has none; the state is freed when it
/// fails or, with `finish`, has nothing more.
fn codec_pull<'js>(
    host: &HostCall<'_, 'js>,
    bytes: Option<Vec<u8>>,
    finish: bool,
) -> rquickjs::Result<JsValue<'js>> {
    let ctx = host.ctx();
    let result = host
        .with_state(0, |codec: &mut CodecState| {
            if let Some(bytes) = bytes {
                codec.push(&bytes);
            }
            codec.pull(finish)
        })
        .ok_or_else(|| Exception::throw_type(ctx, "The stream is closed"))?;
    if result.is_err() || (finish && matches!(result, Ok(None))) {
        host.close_state(0);
    }
    match result {
        Ok(Some(out)) => Ok(TypedArray::<u8>::new(ctx.clone(), out)?.into_value()),
        Ok(None) => Ok(JsValue::new_null(ctx.clone())),
        Err(message) => Err(Exception::throw_type(ctx, &message)),
    }
}

fn string_array<'js>(ctx: &Ctx<'js>, parts: &[String]) -> rquickjs::Result<JsValue<'js>> {
    let array = Array::new(ctx.clone())?;
    for (i, p) in parts.iter().enumerate() {
        array.set(i, p.as_str())?;
    }
    Ok(array.into_value())
}

/// WHATWG "forgiving-base64 decode".
fn forgiving_base64_decode(input: &str) -> Option<Vec<u8>> {
    let mut data: String = input
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' '))
        .collect();
    if data.len().is_multiple_of(4) {
        if data.ends_with("==") {
            data.truncate(data.len() - 2);
        } else if data.ends_with('=') {
            data.truncate(data.len() - 1);
        }
    }
    if data.len() % 4 == 1
        || !data
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    {
        return None;
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(data.as_bytes())
        .ok()
        .or_else(|| {
            // Non-zero trailing bits are allowed by the spec; mask them.
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_allow_trailing_bits(true)
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
            );
            engine.decode(data.as_bytes()).ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_forgiving_as_the_spec_says() {
        assert_eq!(
            forgiving_base64_decode(" aGk= ").as_deref(),
            Some(&b"hi"[..])
        );
        assert_eq!(forgiving_base64_decode("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(forgiving_base64_decode("a"), None);
        assert_eq!(forgiving_base64_decode("aG=k"), None);
    }
}
