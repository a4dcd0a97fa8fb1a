//! Length-prefixed frames over the socket between the supervisor and a
//! worker process.
//!
//! A frame is a little-endian `u32` length and that many bytes. The reader
//! refuses a length above its cap before reading the body and grows its
//! buffer only as bytes arrive, so a peer that announces a huge frame and
//! sends nothing holds no memory; every read has a deadline.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

/// The largest frame either side sends: a worker's code is at most 64 MiB,
/// and values crossing the boundary are capped below this by the limits.
pub const MAX_FRAME_BYTES: usize = 96 << 20;

/// Frames up to this size are sent with their header in one write.
const SMALL_FRAME_BYTES: usize = 64 << 10;

/// Bytes read per `read` call at most, so the buffer follows what arrives.
const READ_STEP: usize = 1 << 20;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the socket (a worker process that exited or crashed).
    #[error("the peer closed the socket")]
    Closed,
    /// The deadline passed before the whole frame arrived.
    #[error("no answer before the deadline")]
    TimedOut,
    /// The announced length is over the cap.
    #[error("a frame of {0} bytes is over the limit of {MAX_FRAME_BYTES} bytes")]
    TooLarge(usize),
    /// Any other socket error.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
}

/// One end of the socket, sending and receiving whole frames.
#[derive(Debug)]
pub struct Channel {
    stream: UnixStream,
    out: Vec<u8>,
    /// The socket's read timeout as last set (none when new): it is set
    /// only when it changes, so a worker that always waits for ever never
    /// makes the call (its seccomp policy does not allow it).
    timeout: Option<std::time::Duration>,
}

impl Channel {
    /// Wraps a connected stream socket.
    pub fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            out: Vec::new(),
            timeout: None,
        }
    }

    /// Closes both directions: the peer reads the end of the stream.
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Sends one frame.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        let length = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l as usize <= MAX_FRAME_BYTES)
            .ok_or(FrameError::TooLarge(payload.len()))?;
        // One write for small frames: a header and body in two syscalls
        // would cost the peer a second wake-up. Big ones are not copied.
        let written = if payload.len() <= SMALL_FRAME_BYTES {
            self.out.clear();
            self.out.extend_from_slice(&length.to_le_bytes());
            self.out.extend_from_slice(payload);
            self.stream.write_all(&self.out)
        } else {
            self.stream
                .write_all(&length.to_le_bytes())
                .and_then(|()| self.stream.write_all(payload))
        };
        written.map_err(|error| match error.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => FrameError::Closed,
            _ => FrameError::Io(error),
        })
    }

    /// Receives one frame of at most `max` bytes, waiting until `deadline`
    /// (or for ever with `None`).
    pub fn recv(&mut self, deadline: Option<Instant>, max: usize) -> Result<Vec<u8>, FrameError> {
        let mut header = [0u8; 4];
        self.read_exact(&mut header, deadline)?;
        let length = u32::from_le_bytes(header) as usize;
        if length > max.min(MAX_FRAME_BYTES) {
            return Err(FrameError::TooLarge(length));
        }
        let mut body = Vec::with_capacity(length.min(READ_STEP));
        while body.len() < length {
            let start = body.len();
            let step = (length - start).min(READ_STEP);
            body.resize(start + step, 0);
            let read = self.read_some(&mut body[start..], deadline)?;
            body.truncate(start + read);
        }
        Ok(body)
    }

    fn read_exact(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> Result<(), FrameError> {
        let mut filled = 0;
        while filled < buf.len() {
            filled += self.read_some(&mut buf[filled..], deadline)?;
        }
        Ok(())
    }

    /// One `read`, at least one byte, before the deadline.
    fn read_some(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Result<usize, FrameError> {
        loop {
            let timeout = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(FrameError::TimedOut);
                    }
                    Some(left)
                }
                None => None,
            };
            if timeout != self.timeout {
                self.stream.set_read_timeout(timeout)?;
                self.timeout = timeout;
            }
            match self.stream.read(buf) {
                Ok(0) => return Err(FrameError::Closed),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(FrameError::Closed);
                }
                Err(e) => return Err(FrameError::Io(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pair() -> (Channel, UnixStream) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        (Channel::new(a), b)
    }

    #[test]
    fn frames_round_trip() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let (mut a, mut b) = (Channel::new(a), Channel::new(b));
        a.send(b"hello").expect("send");
        a.send(b"").expect("send empty");
        assert_eq!(b.recv(None, 100).expect("recv"), b"hello");
        assert_eq!(b.recv(None, 100).expect("recv empty"), b"");
    }

    #[test]
    fn an_announced_length_over_the_cap_is_refused_before_reading() {
        let (mut a, mut raw) = pair();
        raw.write_all(&(1_000u32).to_le_bytes()).expect("write");
        assert!(matches!(a.recv(None, 999), Err(FrameError::TooLarge(1000))));
        raw.write_all(&u32::MAX.to_le_bytes()).expect("write");
        assert!(matches!(
            a.recv(None, usize::MAX),
            Err(FrameError::TooLarge(_))
        ));
    }

    #[test]
    fn a_truncated_frame_is_closed_not_a_hang() {
        let (mut a, mut raw) = pair();
        raw.write_all(&(10u32).to_le_bytes()).expect("write");
        raw.write_all(b"abc").expect("write");
        drop(raw);
        assert!(matches!(a.recv(None, 100), Err(FrameError::Closed)));
    }

    #[test]
    fn a_silent_peer_times_out_at_the_deadline() {
        let (mut a, mut raw) = pair();
        raw.write_all(&(10u32).to_le_bytes()).expect("write");
        let deadline = Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            a.recv(Some(deadline), 100),
            Err(FrameError::TimedOut)
        ));
        assert!(Instant::now() >= deadline);
    }
}
