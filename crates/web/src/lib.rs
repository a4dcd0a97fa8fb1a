//! isola-web: the web platform, an extension of the engine: fetch's `Request`, `Response` and
//! `Headers`, streams, `Blob`/`File`/`FormData` and multipart, `URL` and
//! `URLSearchParams`, encodings, `Event`/`EventTarget`/`AbortController`,
//! compression, `crypto` and `crypto.subtle` over `isola-webcrypto`,
//! `atob`/`btoa`, `performance` and `fetch()`. Its JS glue lives next to the
//! Rust that serves it, and it reaches the engine only through the seam
//! ([`Extension`], [`HostCall`](isola_engine::HostCall)): no `unsafe`, no
//! engine internals.
//!
//! ```
//! let platform = isola_engine::Platform::new(&[&isola_web::WEB_PLATFORM]).expect("composes");
//! assert!(platform.global_names().any(|name| name == "fetch"));
//! ```

mod compression;
mod host;
mod multipart;
mod subtle;
mod text;

use isola_engine::{Chunk, Export, Extension, Global, HostFunction};

/// The small chunk every web global starts from (and the fetch adapter).
const GLOBALS: &str = "isola:web-globals";
/// The object model of fetch, URL, encodings, events, Blob and FormData.
const WEB: &str = "isola:web";
/// Web Crypto's object model.
const CRYPTO: &str = "isola:crypto";
/// WHATWG Streams, the encoding and compression streams.
const STREAMS: &str = "isola:streams";

const fn function(name: &'static std::ffi::CStr, length: u8) -> Global {
    Global::Function {
        name,
        length,
        export: Export {
            chunk: GLOBALS,
            name: match name.to_str() {
                Ok(name) => name,
                Err(_) => "",
            },
        },
    }
}

const fn value(name: &'static std::ffi::CStr, chunk: &'static str) -> Global {
    Global::Value {
        name,
        export: Export {
            chunk,
            name: match name.to_str() {
                Ok(name) => name,
                Err(_) => "",
            },
        },
    }
}

/// The web platform.
pub static WEB_PLATFORM: Extension = Extension::new("web")
    .chunks(&[
        Chunk {
            name: GLOBALS,
            source: include_str!("globals.js"),
        },
        Chunk {
            name: WEB,
            source: include_str!("web.js"),
        },
        Chunk {
            name: CRYPTO,
            source: include_str!("crypto.js"),
        },
        Chunk {
            name: STREAMS,
            source: include_str!("streams.js"),
        },
    ])
    .fetch_adapter(GLOBALS)
    .host_functions(&[
        HostFunction::new(c"btoa", 1, host::btoa),
        HostFunction::new(c"atob", 1, host::atob),
        HostFunction::new(c"getRandomValues", 1, host::get_random_values),
        HostFunction::new(c"randomUUID", 0, host::random_uuid),
        HostFunction::new(c"utf8Encode", 1, host::utf8_encode),
        HostFunction::new(c"utf8Decode", 3, host::utf8_decode),
        HostFunction::new(c"urlParse", 2, host::url_parse),
        HostFunction::new(c"urlSet", 3, host::url_set),
        HostFunction::new(c"formParse", 1, host::form_parse),
        HostFunction::new(c"formSerialize", 1, host::form_serialize),
        HostFunction::new(c"decoderOpen", 3, host::decoder_open),
        HostFunction::new(c"decoderDecode", 3, host::decoder_decode),
        HostFunction::new(c"subtle", 2, host::subtle),
        HostFunction::new(c"multipartParse", 2, host::multipart_parse),
        HostFunction::new(c"compressionOpen", 2, host::compression_open),
        HostFunction::new(c"compressionWrite", 2, host::compression_write),
        HostFunction::new(c"compressionFinish", 1, host::compression_finish),
        HostFunction::new(c"compressionClose", 1, host::compression_close),
    ])
    .globals(&[
        function(c"atob", 1),
        function(c"btoa", 1),
        function(c"fetch", 1),
        value(c"crypto", GLOBALS),
        value(c"performance", GLOBALS),
        value(c"Headers", WEB),
        value(c"Request", WEB),
        value(c"Response", WEB),
        value(c"URL", WEB),
        value(c"URLSearchParams", WEB),
        value(c"TextEncoder", WEB),
        value(c"TextDecoder", WEB),
        value(c"Event", WEB),
        value(c"CustomEvent", WEB),
        value(c"EventTarget", WEB),
        value(c"AbortSignal", WEB),
        value(c"AbortController", WEB),
        value(c"Blob", WEB),
        value(c"File", WEB),
        value(c"FormData", WEB),
        value(c"CryptoKey", CRYPTO),
        value(c"SubtleCrypto", CRYPTO),
        value(c"ReadableStream", STREAMS),
        value(c"ReadableStreamDefaultReader", STREAMS),
        value(c"ReadableStreamBYOBReader", STREAMS),
        value(c"ReadableStreamDefaultController", STREAMS),
        value(c"ReadableByteStreamController", STREAMS),
        value(c"ReadableStreamBYOBRequest", STREAMS),
        value(c"WritableStream", STREAMS),
        value(c"WritableStreamDefaultWriter", STREAMS),
        value(c"WritableStreamDefaultController", STREAMS),
        value(c"TransformStream", STREAMS),
        value(c"TransformStreamDefaultController", STREAMS),
        value(c"ByteLengthQueuingStrategy", STREAMS),
        value(c"CountQueuingStrategy", STREAMS),
        value(c"TextEncoderStream", STREAMS),
        value(c"TextDecoderStream", STREAMS),
        value(c"CompressionStream", STREAMS),
        value(c"DecompressionStream", STREAMS),
    ]);
