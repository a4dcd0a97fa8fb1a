//! Rust halves of the Web APIs: URL parsing by the `url` crate, and
//! `TextDecoder`'s streaming state (encodings by `encoding_rs`).

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

/// One `TextDecoder`: its encoding, options, and the streaming decoder
/// between `decode(..., {stream: true})` calls.
pub(crate) struct TextDecoderState {
    encoding: &'static encoding_rs::Encoding,
    fatal: bool,
    ignore_bom: bool,
    decoder: Option<encoding_rs::Decoder>,
}

/// An isolate holds at most 10,000 `TextDecoder`s (their state lives on
/// the host side).
impl isola_engine::HostState for TextDecoderState {
    const MAX_LIVE: usize = 10_000;
}

impl TextDecoderState {
    /// `None` for labels the Encoding Standard does not know, and for the
    /// replacement encoding, which `TextDecoder` refuses.
    pub(crate) fn open(label: &str, fatal: bool, ignore_bom: bool) -> Option<Self> {
        let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes())?;
        if encoding == encoding_rs::REPLACEMENT {
            return None;
        }
        Some(Self {
            encoding,
            fatal,
            ignore_bom,
            decoder: None,
        })
    }

    /// The encoding's name as `TextDecoder.encoding` spells it.
    pub(crate) fn name(&self) -> String {
        self.encoding.name().to_ascii_lowercase()
    }

    /// Decodes a chunk; `Err` when `fatal` and the input is malformed.
    pub(crate) fn decode(&mut self, bytes: &[u8], stream: bool) -> Result<String, ()> {
        let (encoding, ignore_bom) = (self.encoding, self.ignore_bom);
        let decoder = self.decoder.get_or_insert_with(|| {
            if ignore_bom {
                encoding.new_decoder_without_bom_handling()
            } else {
                encoding.new_decoder_with_bom_removal()
            }
        });
        let last = !stream;
        let mut out = String::new();
        let result = if self.fatal {
            let capacity = decoder
                .max_utf8_buffer_length_without_replacement(bytes.len())
                .ok_or(())?;
            out.reserve(capacity);
            match decoder.decode_to_string_without_replacement(bytes, &mut out, last) {
                (encoding_rs::DecoderResult::InputEmpty, _) => Ok(()),
                _ => Err(()),
            }
        } else {
            let capacity = decoder.max_utf8_buffer_length(bytes.len()).ok_or(())?;
            out.reserve(capacity);
            let _ = decoder.decode_to_string(bytes, &mut out, last);
            Ok(())
        };
        if last || result.is_err() {
            self.decoder = None;
        }
        result.map(|()| out)
    }
}
