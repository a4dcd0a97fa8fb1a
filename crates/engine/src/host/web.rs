//! The host functions of the web platform: encodings, URL and form
//! parsing, randomness, `multipart/form-data`, compression, Web Crypto, and
//! the loading of the web platform's glue chunks.

use std::rc::Rc;

use base64::Engine as _;
use rquickjs::{Array, Ctx, Exception, TypedArray, Value as JsValue, qjs};

use super::{arg, bytes_arg, charge, string_arg};
use crate::codec;
use crate::handles::HostState;
use crate::shared::{HostArgs, Shared, clone_error_to_js, read_value};
use crate::value::ErrorValue;

/// The largest buffer `crypto.getRandomValues` fills, per the Web Crypto spec.
const RANDOM_VALUES_QUOTA: usize = 65_536;

/// `host.btoa(string)`.
pub(super) fn btoa<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    // The input, its bytes and the encoding.
    charge(&ctx, s, input.len().saturating_mul(4))?;
    let mut bytes = Vec::with_capacity(input.len());
    for c in input.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => bytes.push(b),
            Err(_) => {
                return Err(dom_exception(
                    &ctx,
                    "InvalidCharacterError",
                    "Invalid character",
                ));
            }
        }
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(rquickjs::String::from_str(ctx, &encoded)?.into_value())
}

/// `host.atob(string)`: forgiving base64.
pub(super) fn atob<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    // The input, the decoded bytes and their Latin-1 text.
    charge(&ctx, s, input.len().saturating_mul(3))?;
    match forgiving_base64_decode(&input) {
        Some(bytes) => {
            let latin1: String = bytes.into_iter().map(char::from).collect();
            Ok(rquickjs::String::from_str(ctx, &latin1)?.into_value())
        }
        None => Err(dom_exception(
            &ctx,
            "InvalidCharacterError",
            "The string to be decoded is not correctly encoded.",
        )),
    }
}

/// `host.getRandomValues(view)`: fills an integer view from the OS CSPRNG.
pub(super) fn get_random_values<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let target = arg(&args, 0)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    // SAFETY: `target` is live for this call; the predicate reads its class id.
    #[allow(unsafe_code)]
    let kind = unsafe { qjs::JS_GetTypedArrayType(target.as_raw()) };
    // Integer arrays only: QuickJS numbers Uint8C..BigUint64 as 0..=8;
    // Float16/32/64 (9..=11) and non-views (-1) are refused.
    if !(0..=8).contains(&kind) {
        return Err(dom_exception(
            &ctx,
            "TypeMismatchError",
            "The data argument must be an integer-type TypedArray",
        ));
    }
    let view_parts = crate::glue::extras_fn(&ctx, "viewParts")?;
    let parts: Array = view_parts.call((target.clone(),))?;
    let view: JsValue = parts.get(1)?;
    let view = TypedArray::<u8>::from_value(view)?;
    let Some(raw) = view.as_raw() else {
        return Err(Exception::throw_type(
            &ctx,
            "The array's buffer is detached",
        ));
    };
    if raw.len() > RANDOM_VALUES_QUOTA {
        return Err(dom_exception(
            &ctx,
            "QuotaExceededError",
            &format!(
                "The ArrayBufferView's byte length ({}) exceeds the number of bytes of entropy available via this API ({RANDOM_VALUES_QUOTA})",
                raw.len()
            ),
        ));
    }
    let mut fill = vec![0u8; raw.len()];
    getrandom::fill(&mut fill).map_err(|_| Exception::throw_internal(&ctx, "no OS randomness"))?;
    for chunk in fill.chunks_mut(8) {
        let r = s.next_random().to_le_bytes();
        for (b, x) in chunk.iter_mut().zip(r) {
            *b ^= x;
        }
    }
    // SAFETY: `raw` points at the live bytes of `view`, which `target`
    // keeps alive; no guest code runs while we write, and the length is
    // the view's own.
    #[allow(unsafe_code)]
    unsafe {
        std::ptr::copy_nonoverlapping(fill.as_ptr(), raw.as_ptr().cast::<u8>(), fill.len());
    }
    Ok(target)
}

/// `host.randomUUID()`: a version 4 UUID.
pub(super) fn random_uuid<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    _args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
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
pub(super) fn utf8_encode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let text = arg(&args, 0)
        .and_then(|v| v.as_string())
        .map(crate::web::js_string)
        .transpose()?
        .unwrap_or_default();
    charge(&ctx, s, text.len())?;
    Ok(TypedArray::<u8>::new(ctx, text.into_bytes())?.into_value())
}

/// `host.utf8Decode(bytes, fatal, ignoreBOM)`: one-shot `TextDecoder`.
pub(super) fn utf8_decode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let bytes = bytes_arg(&args, 0).unwrap_or_default();
    // The bytes and their text (an invalid byte becomes three).
    charge(&ctx, s, bytes.len().saturating_mul(4))?;
    let fatal = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
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
pub(super) fn url_parse<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
    let base = arg(&args, 1)
        .and_then(|v| v.as_string())
        .map(rquickjs::String::to_string)
        .transpose()?;
    match crate::web::parse_url(&input, base.as_deref()) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.urlSet(href, part, value)`: a URL setter, the new parts.
pub(super) fn url_set<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let href = string_arg(&ctx, &args, 0)?;
    let part = string_arg(&ctx, &args, 1)?;
    let value = string_arg(&ctx, &args, 2)?;
    match crate::web::set_url_part(&href, &part, &value) {
        Some(parts) => string_array(&ctx, &parts),
        None => Ok(JsValue::new_null(ctx)),
    }
}

/// `host.formParse(string)`: `application/x-www-form-urlencoded` pairs.
pub(super) fn form_parse<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let input = string_arg(&ctx, &args, 0)?;
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
pub(super) fn form_serialize<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let list = arg(&args, 0)
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

/// `host.loadWeb(host, extras)`: evaluates the Web API chunk (compiled
/// once per process) for this isolate.
pub(super) fn load_web<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    // The caller (extras) caches the result and passes `host` back in: a
    // closure holding it would be a cycle the collector cannot see.
    let factory = crate::bytecode::web(&ctx)?;
    factory.call((arg(&args, 0).cloned(), arg(&args, 1).cloned()))
}

/// `host.decoderOpen(label, fatal, ignoreBOM)`: a streaming `TextDecoder`, counted against the isolate's decoders.
pub(super) fn decoder_open<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let label = string_arg(&ctx, &args, 0)?;
    let fatal = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let ignore_bom = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(state) = crate::web::TextDecoderState::open(&label, fatal, ignore_bom) else {
        return Ok(JsValue::new_null(ctx));
    };
    let name = state.name();
    let handle =
        crate::handles::open(&ctx, &s.decoders, HostState::Decoder(state))?.ok_or_else(|| {
            Exception::throw_range(&ctx, "Too many TextDecoders alive in this isolate.")
        })?;
    let pair = Array::new(ctx.clone())?;
    pair.set(0, handle)?;
    pair.set(1, name)?;
    Ok(pair.into_value())
}

/// `host.decoderDecode(handle, bytes, stream)`.
pub(super) fn decoder_decode<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let bytes = bytes_arg(&args, 1).unwrap_or_default();
    charge(&ctx, s, bytes.len().saturating_mul(4))?;
    let stream = arg(&args, 2).and_then(JsValue::as_bool).unwrap_or(false);
    let decoded = crate::handles::with(arg(&args, 0), |state| match state {
        HostState::Decoder(decoder) => Some(decoder.decode(&bytes, stream)),
        HostState::Codec(_) => None,
    })
    .flatten()
    .ok_or_else(|| Exception::throw_type(&ctx, "Illegal invocation"))?;
    match decoded {
        Ok(text) => Ok(rquickjs::String::from_str(ctx, &text)?.into_value()),
        Err(()) => Err(Exception::throw_type(
            &ctx,
            "The encoded data was not valid for encoding",
        )),
    }
}

/// `host.loadCrypto(host)`: evaluates the Web Crypto chunk.
pub(super) fn load_crypto<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let factory = crate::bytecode::crypto(&ctx)?;
    factory.call((arg(&args, 0).cloned(),))
}

/// `host.subtle(operation, …)`: one `crypto.subtle` operation, run by `isola-webcrypto`.
pub(super) fn subtle<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let op = string_arg(&ctx, &args, 0)?;
    let params = arg(&args, 1)
        .cloned()
        .unwrap_or_else(|| JsValue::new_undefined(ctx.clone()));
    let params = read_value(&ctx, s, &params).map_err(|e| clone_error_to_js(&ctx, &e))?;
    // Long operations look at the limits between units of work; when
    // one fired, the dispatcher turns the result into the stop.
    let interrupt = || s.watchdog.poll();
    match crate::subtle::run(&op, params, &interrupt) {
        Ok(value) => codec::write(&ctx, &value),
        Err(e) if e.name == "TypeError" => Err(Exception::throw_type(&ctx, &e.message)),
        Err(e) => Err(dom_exception(&ctx, e.name, &e.message)),
    }
}

/// `host.multipartParse(bytes, contentType)`: a `multipart/form-data` body's parts.
pub(super) fn multipart_parse<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let body = bytes_arg(&args, 0).unwrap_or_default();
    // The body and its parts.
    charge(&ctx, s, body.len().saturating_mul(2))?;
    let content_type = string_arg(&ctx, &args, 1)?;
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

/// `host.loadStreams(host, extras)`: evaluates the Streams chunk.
pub(super) fn load_streams<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let factory = crate::bytecode::streams(&ctx)?;
    factory.call((arg(&args, 0).cloned(), arg(&args, 1).cloned()))
}

/// `host.compressionOpen(format, compress)`: a `CompressionStream` or
/// `DecompressionStream` codec, counted against the isolate's codecs.
pub(super) fn compression_open<'js>(
    ctx: Ctx<'js>,
    s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let format = string_arg(&ctx, &args, 0)?;
    let compress = arg(&args, 1).and_then(JsValue::as_bool).unwrap_or(false);
    let Some(format) = crate::compression::Format::parse(&format) else {
        return Err(Exception::throw_type(
            &ctx,
            &format!("Unsupported compression format: '{format}'"),
        ));
    };
    let cap = crate::compression::decompressed_cap(s.memory.limit());
    let state = crate::compression::CodecState::new(format, compress, cap);
    crate::handles::open(&ctx, &s.codecs, HostState::Codec(state))?.ok_or_else(|| {
        Exception::throw_range(
            &ctx,
            "Too many open CompressionStreams and DecompressionStreams in this isolate.",
        )
    })
}

/// `host.compressionWrite(handle, bytes)`: the output so far.
pub(super) fn compression_write<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    let chunk = arg(&args, 1).is_some_and(|v| !v.is_undefined());
    let bytes = if chunk { bytes_arg(&args, 1) } else { None };
    codec_pull(&ctx, arg(&args, 0), bytes, false)
}

/// `host.compressionFinish(handle)`: the last output.
pub(super) fn compression_finish<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    codec_pull(&ctx, arg(&args, 0), None, true)
}

/// `host.compressionClose(handle)`.
pub(super) fn compression_close<'js>(
    ctx: Ctx<'js>,
    _s: &Rc<Shared>,
    args: HostArgs<'js>,
) -> rquickjs::Result<JsValue<'js>> {
    crate::handles::close(arg(&args, 0));
    Ok(JsValue::new_undefined(ctx))
}

/// Feeds `bytes` (if any) to a compression state and returns its next
/// output slice, or null when it has none; the state is freed when it
/// fails or, with `finish`, has nothing more.
fn codec_pull<'js>(
    ctx: &Ctx<'js>,
    handle: Option<&JsValue<'js>>,
    bytes: Option<Vec<u8>>,
    finish: bool,
) -> rquickjs::Result<JsValue<'js>> {
    let result = crate::handles::with(handle, |state| match state {
        HostState::Codec(codec) => {
            if let Some(bytes) = bytes {
                codec.push(&bytes);
            }
            Some(codec.pull(finish))
        }
        HostState::Decoder(_) => None,
    })
    .flatten()
    .ok_or_else(|| Exception::throw_type(ctx, "The stream is closed"))?;
    if result.is_err() || (finish && matches!(result, Ok(None))) {
        crate::handles::close(handle);
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

fn dom_exception(ctx: &Ctx<'_>, name: &str, message: &str) -> rquickjs::Error {
    let thrown = (|| -> rquickjs::Result<rquickjs::Error> {
        let e = codec::error_to_js(ctx, &ErrorValue::new(name, message))?;
        Ok(ctx.throw(e))
    })();
    thrown.unwrap_or_else(|e| e)
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
