//! Length-prefixed frames over the socket between the supervisor and a
//! worker process.
//!
//! A frame is a little-endian `u32` length and that many bytes. The reader
//! refuses a length above its cap before reading the body and grows its
//! buffer only as bytes arrive, so a peer that announces a huge frame and
//! sends nothing holds no memory; every read has a deadline.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
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
    /// Bytes read but not yet returned as a frame.
    inbox: Inbox,
    /// A big frame being read: its length and the body so far.
    partial: Option<(usize, Vec<u8>)>,
}

impl Channel {
    /// Wraps a connected stream socket.
    pub fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            out: Vec::new(),
            inbox: Inbox::default(),
            partial: None,
        }
    }

    /// Closes both directions: the peer reads the end of the stream.
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Sends one frame, waiting for the peer to make room for ever.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        self.send_by(payload, None)
    }

    /// Sends one frame, before `deadline`: a peer that stops reading
    /// cannot hold the sender past it.
    pub fn send_by(&mut self, payload: &[u8], deadline: Option<Instant>) -> Result<(), FrameError> {
        let length = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l as usize <= MAX_FRAME_BYTES)
            .ok_or(FrameError::TooLarge(payload.len()))?;
        let fd = self.stream.as_raw_fd();
        // One write for small frames: a header and body in two syscalls
        // would cost the peer a second wake-up. Big ones are not copied.
        if payload.len() <= SMALL_FRAME_BYTES {
            self.out.clear();
            self.out.extend_from_slice(&length.to_le_bytes());
            self.out.extend_from_slice(payload);
            write_all(fd, &self.out, deadline)
        } else {
            write_all(fd, &length.to_le_bytes(), deadline)?;
            write_all(fd, payload, deadline)
        }
    }

    /// Receives one frame of at most `max` bytes, waiting until `deadline`
    /// (or for ever with `None`).
    pub fn recv(&mut self, deadline: Option<Instant>, max: usize) -> Result<Vec<u8>, FrameError> {
        loop {
            if let Some(frame) = self.try_recv(max)? {
                return Ok(frame);
            }
            wait_readable(self.stream.as_raw_fd(), deadline)?;
        }
    }

    /// One frame of at most `max` bytes if it has arrived whole, reading
    /// without waiting; `None` if more is still to come. What was read of
    /// an incomplete frame is kept for the next call.
    ///
    /// Small frames arrive in one `read` with their header (and whatever
    /// follows them, kept for the next call: a `Create` and its first
    /// `Activate` are read together). A big frame's body is read into its
    /// own buffer as it arrives, never past the frame's end, so a peer
    /// that announces a big frame and sends nothing holds no memory.
    pub fn try_recv(&mut self, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
        let fd = self.stream.as_raw_fd();
        if self.partial.is_none() {
            while self.inbox.buffered() < 4 {
                if !self.fill_inbox()? {
                    return Ok(None);
                }
            }
            let header = self.inbox.peek(4);
            let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            if length > max.min(MAX_FRAME_BYTES) {
                // The stream cannot be trusted past a refused frame.
                self.inbox.take(4);
                return Err(FrameError::TooLarge(length));
            }
            if length <= SMALL_FRAME_BYTES {
                while self.inbox.buffered() < 4 + length {
                    if !self.fill_inbox()? {
                        return Ok(None);
                    }
                }
                self.inbox.take(4);
                return Ok(Some(self.inbox.take(length).to_vec()));
            }
            // A big frame: the inbox holds at most its first bytes.
            self.inbox.take(4);
            let mut body = Vec::with_capacity(length.min(READ_STEP));
            let buffered = self.inbox.buffered();
            body.extend_from_slice(self.inbox.take(buffered));
            self.partial = Some((length, body));
        }
        let Some((length, body)) = self.partial.as_mut() else {
            return Ok(None);
        };
        while body.len() < *length {
            let start = body.len();
            let step = (*length - start).min(READ_STEP);
            body.resize(start + step, 0);
            let read = read_now(fd, &mut body[start..]);
            body.truncate(start + read.as_ref().map_or(0, |&n| n));
            if read? == 0 {
                return Ok(None);
            }
        }
        Ok(self.partial.take().map(|(_, body)| body))
    }

    /// Reads what has arrived into the inbox; false if nothing had.
    fn fill_inbox(&mut self) -> Result<bool, FrameError> {
        let fd = self.stream.as_raw_fd();
        let read = read_now(fd, self.inbox.room())?;
        self.inbox.filled(read);
        Ok(read > 0)
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

/// Bytes read from the socket and not yet returned: a buffer made once,
/// big enough for a header and a small frame, with the unread bytes
/// between `head` and `tail`.
#[derive(Debug, Default)]
struct Inbox {
    bytes: Vec<u8>,
    head: usize,
    tail: usize,
}

impl Inbox {
    fn buffered(&self) -> usize {
        self.tail - self.head
    }

    /// The next `n` unread bytes (at most what is buffered), left unread.
    fn peek(&self, n: usize) -> &[u8] {
        &self.bytes[self.head..self.head + n.min(self.buffered())]
    }

    /// The next `n` unread bytes (at most what is buffered).
    fn take(&mut self, n: usize) -> &[u8] {
        let start = self.head;
        self.head += n.min(self.buffered());
        &self.bytes[start..self.head]
    }

    /// Free space after the unread bytes, moved to the front first when
    /// the end is reached. Never empty while less than a header and a
    /// small frame is buffered.
    fn room(&mut self) -> &mut [u8] {
        if self.bytes.is_empty() {
            self.bytes = vec![0; 4 + SMALL_FRAME_BYTES];
        }
        if self.tail == self.bytes.len() || self.head == self.tail {
            self.bytes.copy_within(self.head..self.tail, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        &mut self.bytes[self.tail..]
    }

    fn filled(&mut self, n: usize) {
        self.tail += n;
    }
}

/// One read of what has arrived on `fd`, without waiting: 0 if nothing
/// had (the peer closing is an error, not 0).
fn read_now(fd: RawFd, buf: &mut [u8]) -> Result<usize, FrameError> {
    loop {
        // SAFETY: `buf` is valid for writes of its length for the call.
        let read =
            unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if read > 0 {
            return Ok(read as usize);
        }
        if read == 0 {
            return Err(FrameError::Closed);
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => return Ok(0),
            io::ErrorKind::ConnectionReset => return Err(FrameError::Closed),
            _ => return Err(FrameError::Io(error)),
        }
    }
}

/// Writes all of `bytes` to `fd` before the deadline.
fn write_all(fd: RawFd, mut bytes: &[u8], deadline: Option<Instant>) -> Result<(), FrameError> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length for the call.
        let written = unsafe {
            libc::send(
                fd,
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if written >= 0 {
            bytes = &bytes[written as usize..];
            continue;
        }
        let error = io::Error::last_os_error();
        match error.kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => wait_for(fd, libc::POLLOUT, deadline)?,
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                return Err(FrameError::Closed);
            }
            _ => return Err(FrameError::Io(error)),
        }
    }
    Ok(())
}

/// Waits until `fd` is readable (or closed), or the deadline passes.
///
/// It waits in `poll` rather than in a blocking `read`: a UNIX stream
/// socket wakes a blocked reader also when the peer consumes what this
/// side wrote (write space), so every frame cost each side a second,
/// useless wake-up (in a VM, an inter-processor interrupt each). `poll` is
/// woken for readability only, and carries the deadline itself.
fn wait_readable(fd: RawFd, deadline: Option<Instant>) -> Result<(), FrameError> {
    wait_for(fd, libc::POLLIN, deadline)
}

/// One `poll` for `events` on `fd`, until the deadline: returns when the
/// socket is ready, closed or interrupted (the caller's next try tells
/// which), or with `TimedOut` once the deadline has passed.
fn wait_for(fd: RawFd, events: libc::c_short, deadline: Option<Instant>) -> Result<(), FrameError> {
    let timeout_ms: libc::c_int = match deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FrameError::TimedOut);
            }
            // Rounded up, so the wait never ends before the deadline.
            libc::c_int::try_from(left.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX)
        }
        None => -1,
    };
    let mut ready = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, alive for the call.
    if unsafe { libc::poll(&raw mut ready, 1, timeout_ms) } < 0 {
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(FrameError::Io(error));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
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
    fn frames_that_arrive_together_come_out_one_by_one() {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let (mut a, mut b) = (Channel::new(a), Channel::new(b));
        let big = vec![7u8; 3 * SMALL_FRAME_BYTES + 5];
        let sent = big.clone();
        let sender = std::thread::spawn(move || {
            a.send(b"first").expect("send");
            a.send(&sent).expect("send big");
            a.send(b"third").expect("send");
            a.send(&[]).expect("send empty");
        });
        assert_eq!(b.recv(None, 1 << 20).expect("recv"), b"first");
        assert_eq!(b.recv(None, 1 << 20).expect("recv big"), big);
        assert_eq!(b.recv(None, 1 << 20).expect("recv"), b"third");
        assert_eq!(b.recv(None, 1 << 20).expect("recv"), b"");
        sender.join().expect("sender");
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
    fn try_recv_keeps_what_arrived_until_the_frame_is_whole() {
        let (mut a, mut raw) = pair();
        assert!(a.try_recv(100).expect("nothing yet").is_none());
        raw.write_all(&(6u32).to_le_bytes()).expect("write");
        raw.write_all(b"abc").expect("write");
        assert!(a.try_recv(100).expect("half").is_none());
        raw.write_all(b"def").expect("write");
        assert_eq!(a.try_recv(100).expect("whole"), Some(b"abcdef".to_vec()));
        // A big frame, in pieces.
        let big = vec![9u8; SMALL_FRAME_BYTES + 10];
        raw.write_all(&(big.len() as u32).to_le_bytes())
            .expect("write");
        raw.write_all(&big[..1000]).expect("write");
        assert!(a.try_recv(1 << 20).expect("first piece").is_none());
        raw.write_all(&big[1000..]).expect("write");
        assert_eq!(a.try_recv(1 << 20).expect("whole big"), Some(big));
    }

    #[test]
    fn a_peer_that_stops_reading_cannot_hold_a_sender_past_its_deadline() {
        let (mut a, _raw) = pair();
        let payload = vec![1u8; 8 << 20];
        let deadline = Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            a.send_by(&payload, Some(deadline)),
            Err(FrameError::TimedOut)
        ));
        assert!(Instant::now() >= deadline);
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
