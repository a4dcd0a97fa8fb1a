//! The Rust half of `CompressionStream` and `DecompressionStream`: gzip,
//! zlib ("deflate") and raw deflate through `flate2` (its pure-Rust
//! `miniz_oxide` backend), one state per live stream, kept per isolate.
//!
//! Output leaves in bounded slices: the glue pushes one chunk of input and
//! pulls output until there is none, so no call ever produces more than
//! [`SLICE`] bytes, however well the input compresses. Decompression stops
//! with an error once a stream's total output passes its cap (see
//! [`decompressed_cap`]): a few KiB of input cannot make the host or the
//! guest heap hold gigabytes.

use flate2::{Compress, Compression, Crc, Decompress, FlushCompress, FlushDecompress, Status};

/// The most compression states an isolate may hold at once. Their memory
/// (up to a few hundred KiB each for a compressor) is on the host, outside
/// the metered engine heap, so the count is kept small; the glue frees a
/// state when its stream finishes, errors or is cancelled, and the engine
/// when the stream is collected (see `handles`).
pub(crate) const MAX_STREAMS: usize = 64;

/// The most bytes one `DecompressionStream` may produce, whatever the
/// isolate's memory limit.
pub(crate) const MAX_DECOMPRESSED: usize = 128 << 20;

/// Output bytes produced per pull.
const SLICE: usize = 64 << 10;

/// A stream's decompressed-output cap: [`MAX_DECOMPRESSED`], and never more
/// than a quarter of the heap limit, so the cap trips (a catchable
/// `TypeError`) before the decompressed chunks could fill the heap.
pub(crate) fn decompressed_cap(memory_limit: usize) -> usize {
    MAX_DECOMPRESSED.min(memory_limit / 4)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Gzip,
    Deflate,
    DeflateRaw,
}

impl Format {
    /// The Compression Standard's format names.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "gzip" => Some(Self::Gzip),
            "deflate" => Some(Self::Deflate),
            "deflate-raw" => Some(Self::DeflateRaw),
            _ => None,
        }
    }
}

/// The gzip header `CompressionStream` writes: no name, no timestamp,
/// operating system "unknown" (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading (decompressing) or writing (compressing) the gzip header.
    Header,
    Body,
    /// The gzip CRC-32 and length.
    Trailer,
    Done,
}

enum Engine {
    Compress(Compress),
    Decompress(Decompress),
}

/// One stream's codec state and the input it has not consumed yet.
pub(crate) struct CodecState {
    format: Format,
    engine: Engine,
    phase: Phase,
    input: Vec<u8>,
    /// How much of `input` is consumed.
    pos: usize,
    /// CRC-32 and length (mod 2^32) of the uncompressed data, for gzip.
    crc: Crc,
    /// Decompressed bytes so far, and the most allowed.
    produced: usize,
    cap: usize,
}

impl isola_engine::HostState for CodecState {
    const MAX_LIVE: usize = MAX_STREAMS;
}

impl CodecState {
    pub(crate) fn new(format: Format, compress: bool, cap: usize) -> Self {
        let zlib = format == Format::Deflate;
        let engine = if compress {
            Engine::Compress(Compress::new(Compression::default(), zlib))
        } else {
            Engine::Decompress(Decompress::new(zlib))
        };
        let phase = if format == Format::Gzip {
            Phase::Header
        } else {
            Phase::Body
        };
        Self {
            format,
            engine,
            phase,
            input: Vec::new(),
            pos: 0,
            crc: Crc::new(),
            produced: 0,
            cap,
        }
    }

    /// Adds a chunk of input; [`CodecState::pull`] consumes it.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.input.drain(..self.pos);
        self.pos = 0;
        self.input.extend_from_slice(bytes);
    }

    /// The next slice of output, or `None` once the input pushed so far is
    /// used up. With `finish`, the input is complete: the compressor
    /// flushes and the decompressor insists on a complete stream.
    pub(crate) fn pull(&mut self, finish: bool) -> Result<Option<Vec<u8>>, String> {
        match self.engine {
            Engine::Compress(_) => self.pull_compressed(finish),
            Engine::Decompress(_) => self.pull_decompressed(finish),
        }
    }

    fn pull_compressed(&mut self, finish: bool) -> Result<Option<Vec<u8>>, String> {
        let Engine::Compress(compress) = &mut self.engine else {
            return Err("not a compressor".into());
        };
        let mut out = Vec::with_capacity(SLICE);
        loop {
            match self.phase {
                Phase::Header => {
                    out.extend_from_slice(&GZIP_HEADER);
                    self.phase = Phase::Body;
                }
                Phase::Body => {
                    let input = &self.input[self.pos..];
                    if out.len() == out.capacity() || (input.is_empty() && !finish) {
                        break;
                    }
                    let flush = if finish {
                        FlushCompress::Finish
                    } else {
                        FlushCompress::None
                    };
                    let (before_in, before_out) = (compress.total_in(), compress.total_out());
                    let status = compress
                        .compress_vec(input, &mut out, flush)
                        .map_err(|e| format!("Compression failed: {e}"))?;
                    let consumed = usize::try_from(compress.total_in() - before_in)
                        .unwrap_or(input.len())
                        .min(input.len());
                    self.crc.update(&input[..consumed]);
                    self.pos += consumed;
                    if finish && status == Status::StreamEnd {
                        self.phase = if self.format == Format::Gzip {
                            Phase::Trailer
                        } else {
                            Phase::Done
                        };
                    } else if consumed == 0 && compress.total_out() == before_out {
                        break;
                    }
                }
                Phase::Trailer => {
                    if out.capacity() - out.len() < 8 {
                        break;
                    }
                    out.extend_from_slice(&self.crc.sum().to_le_bytes());
                    out.extend_from_slice(&self.crc.amount().to_le_bytes());
                    self.phase = Phase::Done;
                }
                Phase::Done => break,
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    fn pull_decompressed(&mut self, finish: bool) -> Result<Option<Vec<u8>>, String> {
        const TRUNCATED: &str = "The compressed data ended before the end of the stream";
        loop {
            let input = &self.input[self.pos..];
            match self.phase {
                Phase::Header => match gzip_header_len(input)? {
                    Some(len) => {
                        self.pos += len;
                        self.phase = Phase::Body;
                    }
                    None if finish => return Err(TRUNCATED.into()),
                    None => return Ok(None),
                },
                Phase::Body => {
                    let Engine::Decompress(inflate) = &mut self.engine else {
                        return Err("not a decompressor".into());
                    };
                    let room = SLICE.min((self.cap - self.produced).saturating_add(1));
                    let mut out = Vec::with_capacity(room);
                    let before_in = inflate.total_in();
                    let status = inflate
                        .decompress_vec(input, &mut out, FlushDecompress::None)
                        .map_err(|e| format!("The compressed data is invalid: {e}"))?;
                    let consumed =
                        usize::try_from(inflate.total_in() - before_in).unwrap_or(input.len());
                    self.pos += consumed.min(input.len());
                    self.produced += out.len();
                    if self.produced > self.cap {
                        return Err(format!(
                            "Decompressed data exceeds the limit of {} bytes per DecompressionStream",
                            self.cap
                        ));
                    }
                    self.crc.update(&out);
                    if status == Status::StreamEnd {
                        self.phase = if self.format == Format::Gzip {
                            Phase::Trailer
                        } else {
                            Phase::Done
                        };
                    }
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                    if status != Status::StreamEnd && consumed == 0 {
                        // No progress: the decompressor needs more input.
                        return if finish {
                            Err(TRUNCATED.into())
                        } else {
                            Ok(None)
                        };
                    }
                }
                Phase::Trailer => {
                    if input.len() < 8 {
                        return if finish {
                            Err(TRUNCATED.into())
                        } else {
                            Ok(None)
                        };
                    }
                    let crc = u32::from_le_bytes([input[0], input[1], input[2], input[3]]);
                    let size = u32::from_le_bytes([input[4], input[5], input[6], input[7]]);
                    if crc != self.crc.sum() || size != self.crc.amount() {
                        return Err("The gzip checksum or length does not match the data".into());
                    }
                    self.pos += 8;
                    self.phase = Phase::Done;
                }
                Phase::Done => {
                    if !input.is_empty() {
                        return Err("Unexpected data after the end of the compressed stream".into());
                    }
                    return Ok(None);
                }
            }
        }
    }
}

/// The length of the gzip member header at the start of `input` (RFC 1952,
/// section 2.3), `None` if more input is needed.
fn gzip_header_len(input: &[u8]) -> Result<Option<usize>, String> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if input.len() < 10 {
        if !GZIP_HEADER[..2].starts_with(&input[..input.len().min(2)]) {
            return Err("The data is not in gzip format".into());
        }
        return Ok(None);
    }
    if input[..2] != GZIP_HEADER[..2] || input[2] != 8 || input[3] & 0xe0 != 0 {
        return Err("The data is not in gzip format".into());
    }
    let flags = input[3];
    let mut len = 10;
    if flags & FEXTRA != 0 {
        let Some(xlen) = input.get(len..len + 2) else {
            return Ok(None);
        };
        len += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(rest) = input.get(len..) else {
                return Ok(None);
            };
            match rest.iter().position(|&b| b == 0) {
                Some(end) => len += end + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        len += 2;
    }
    Ok((len <= input.len()).then_some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        format: Format,
        compress: bool,
        cap: usize,
        chunks: &[&[u8]],
    ) -> Result<Vec<u8>, String> {
        let mut state = CodecState::new(format, compress, cap);
        let mut out = Vec::new();
        for chunk in chunks {
            state.push(chunk);
            while let Some(slice) = state.pull(false)? {
                assert!(slice.len() <= SLICE);
                out.extend(slice);
            }
        }
        while let Some(slice) = state.pull(true)? {
            out.extend(slice);
        }
        Ok(out)
    }

    #[test]
    fn every_format_round_trips_in_any_chunking() {
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| ((i * 7919) % 251) as u8 ^ (i >> 9) as u8)
            .collect();
        for format in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
            for size in [1000, 42_858, 300_000] {
                let pieces: Vec<&[u8]> = data.chunks(size).collect();
                let packed = run(format, true, usize::MAX, &pieces).expect("no error");
                for size in [3, 1000, 23_077, packed.len()] {
                    let pieces: Vec<&[u8]> = packed.chunks(size).collect();
                    let unpacked = run(format, false, usize::MAX, &pieces);
                    assert_eq!(unpacked.as_deref(), Ok(&data[..]), "{format:?} {size}");
                }
            }
            let empty = run(format, true, usize::MAX, &[]).expect("no error");
            assert_eq!(
                run(format, false, usize::MAX, &[&empty]).expect("no error"),
                b""
            );
        }
    }

    #[test]
    fn bad_streams_are_errors() {
        let packed =
            run(Format::Gzip, true, usize::MAX, &[b"hello hello hello"]).expect("no error");
        let truncated = run(
            Format::Gzip,
            false,
            usize::MAX,
            &[&packed[..packed.len() - 3]],
        );
        assert!(truncated.expect_err("an error").contains("ended"));
        let mut trailing = packed.clone();
        trailing.push(0);
        assert!(
            run(Format::Gzip, false, usize::MAX, &[&trailing])
                .expect_err("an error")
                .contains("after the end")
        );
        let mut corrupt = packed.clone();
        let n = corrupt.len();
        corrupt[n - 6] ^= 1;
        assert!(run(Format::Gzip, false, usize::MAX, &[&corrupt]).is_err());
        assert!(run(Format::Deflate, false, usize::MAX, &[b"not zlib"]).is_err());
        assert!(run(Format::Gzip, false, usize::MAX, &[b"\x1f\x8c"]).is_err());
    }

    #[test]
    fn decompression_stops_at_the_cap() {
        let zeros = vec![0u8; 1 << 20];
        let packed = run(Format::DeflateRaw, true, usize::MAX, &[&zeros]).expect("no error");
        assert!(packed.len() < 4096);
        let err = run(Format::DeflateRaw, false, 100_000, &[&packed]).expect_err("an error");
        assert!(err.contains("100000 bytes"), "{err}");
        assert_eq!(
            run(Format::DeflateRaw, false, 1 << 20, &[&packed]).expect("no error"),
            zeros
        );
    }

    #[test]
    fn gzip_headers_with_optional_fields_are_skipped() {
        let mut header = vec![
            0x1f,
            0x8b,
            8,
            4 | 8 | 16 | 2,
            0,
            0,
            0,
            0,
            0,
            3,
            2,
            0,
            b'x',
            b'y',
        ];
        header.extend_from_slice(b"name\0comment\0\x00\x00");
        assert_eq!(
            gzip_header_len(&header).expect("no error"),
            Some(header.len())
        );
        assert_eq!(
            gzip_header_len(&header[..header.len() - 1]).expect("no error"),
            None
        );
        assert_eq!(gzip_header_len(&header[..15]).expect("no error"), None);
    }
}
