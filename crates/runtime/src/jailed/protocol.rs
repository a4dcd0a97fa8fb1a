//! The messages between the supervisor and a jailed worker process.
//!
//! Each message is one frame ([`isola_jail::frame`]) holding a `postcard`
//! encoding. The supervisor decodes what a worker sends as hostile input:
//! the frame size is capped before reading, the encoding is checked as it
//! is read (lengths against the bytes left, UTF-8, enum tags), values are
//! nested at most [`isola_engine::MAX_DECODE_DEPTH`] deep, and anything
//! that does not decode ends that process.

use std::borrow::Cow;
use std::time::Duration;

use isola_engine::{
    CallSpec, Effect, IsolateConfig, IsolateError, OpId, OpResult, Termination, TimerId,
    WorkerSource,
};
use serde::{Deserialize, Serialize};

/// Bumped whenever a message changes shape; both sides must agree.
pub(crate) const VERSION: u32 = 1;

/// The largest reply the supervisor reads from a worker: a result is
/// capped by the output limit (at most 32 MiB by default) and effects by
/// the payloads the engine lets out, so this is room to spare, not a
/// budget.
pub(crate) const MAX_REPLY_BYTES: usize = isola_jail::MAX_FRAME_BYTES;

/// Supervisor → worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request<'a> {
    /// The first message: the protocol version and the process-wide
    /// memory budget of this worker process.
    Hello { version: u32, memory_budget: u64 },
    /// Make an isolate for `source` under `id`. Not answered: it is sent
    /// with the isolate's first activation, and that answer says whether
    /// the isolate could be made.
    Create {
        id: u64,
        source: Cow<'a, WorkerSource>,
        config: Cow<'a, IsolateConfig>,
    },
    /// Run the isolate once.
    Activate {
        id: u64,
        /// The memory limit in force for this activation.
        memory_limit: u64,
        /// Start a fresh console budget first (the first call in flight).
        reset_log_budget: bool,
        cpu: Duration,
        /// Wall time left until the deadline.
        wall: Duration,
        entry: Entry,
    },
    /// Free the isolate (no answer).
    Free { id: u64 },
}

/// What an activation runs.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Entry {
    Call(CallSpec),
    CompleteOp { op: OpId, result: OpResult },
    FireTimer { timer: TimerId },
}

/// Worker → supervisor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    Hello {
        version: u32,
    },
    Activated(Activation),
    /// The isolate an activation named could not be made.
    CreateFailed(IsolateError),
}

/// The result of one activation, with everything the driver reads after it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Activation {
    pub(crate) result: Result<Duration, Termination>,
    pub(crate) effects: Vec<Effect>,
    pub(crate) cpu_total: Duration,
    pub(crate) memory_used: u64,
    pub(crate) peak_memory: u64,
    pub(crate) budget_full: bool,
}

/// Encodes a message.
pub(crate) fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, String> {
    postcard::to_stdvec(message).map_err(|e| format!("encoding a message: {e}"))
}

/// Decodes a message, refusing trailing bytes.
pub(crate) fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, String> {
    let (message, rest) =
        postcard::take_from_bytes(bytes).map_err(|e| format!("an undecodable message: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the message", rest.len()));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use isola_engine::{ErrorValue, LogEntry, LogLevel, OpRequest, Value};
    use proptest::prelude::*;

    fn sample_activation() -> Reply {
        Reply::Activated(Activation {
            result: Ok(Duration::from_micros(12)),
            effects: vec![
                Effect::Log {
                    entry: LogEntry {
                        level: LogLevel::Info,
                        timestamp_ms: 1,
                        message: "hi".into(),
                    },
                    call: Some(2),
                },
                Effect::Op {
                    id: 3,
                    request: OpRequest::Binding {
                        binding: "KV".into(),
                        method: "get".into(),
                        args: vec![Value::Array(vec![
                            Value::Number(-0.0),
                            Value::BigInt("-1".into()),
                        ])],
                    },
                },
                Effect::CallSettled {
                    call: 1,
                    result: isola_engine::CallResult::Threw(ErrorValue::new("TypeError", "x")),
                },
            ],
            cpu_total: Duration::from_millis(3),
            memory_used: 1 << 20,
            peak_memory: 2 << 20,
            budget_full: false,
        })
    }

    #[test]
    fn a_reply_round_trips() {
        let bytes = encode(&sample_activation()).expect("encode");
        let back: Reply = decode(&bytes).expect("decode");
        assert_eq!(format!("{back:?}"), format!("{:?}", sample_activation()));
    }

    #[test]
    fn a_value_nested_past_the_limit_is_refused_not_a_stack_overflow() {
        // Hand-made bytes: Reply::Activated with a binding op whose one
        // argument is an array nested a million deep. The decoder must
        // refuse it by depth, on a normal test thread's stack.
        let deep = Reply::Activated(Activation {
            result: Ok(Duration::ZERO),
            effects: vec![Effect::Op {
                id: 1,
                request: OpRequest::Binding {
                    binding: "B".into(),
                    method: "m".into(),
                    args: vec![Value::Null],
                },
            }],
            cpu_total: Duration::ZERO,
            memory_used: 0,
            peak_memory: 0,
            budget_full: false,
        });
        let bytes = encode(&deep).expect("encode");
        // The encoding ends with: args length (1), Value::Null tag, then
        // the activation's tail. Replace Null by Array(len 1) × N + Null.
        let null_tag = encode(&Value::Null).expect("null");
        let array_prefix = {
            let mut one = encode(&Value::Array(vec![Value::Null])).expect("array");
            one.truncate(one.len() - null_tag.len());
            one
        };
        let tail_len = encode(&(Duration::ZERO, 0u64, 0u64, false))
            .expect("tail")
            .len();
        let split = bytes.len() - tail_len - null_tag.len();
        let nested = |levels: usize| {
            let mut hostile = bytes[..split].to_vec();
            for _ in 0..levels {
                hostile.extend_from_slice(&array_prefix);
            }
            hostile.extend_from_slice(&bytes[split..]);
            hostile
        };
        // The construction is right: within the limit it decodes.
        let ok =
            decode::<Reply>(&nested(isola_engine::MAX_DECODE_DEPTH - 1)).expect("within the limit");
        assert!(format!("{ok:?}").contains("Array([Array(["));
        decode::<Reply>(&nested(isola_engine::MAX_DECODE_DEPTH + 1)).expect_err("too deep");
        decode::<Reply>(&nested(1_000_000)).expect_err("far too deep");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Reply>(&bytes);
        }

        #[test]
        fn truncated_and_corrupted_replies_never_panic(cut in 0usize..400, flip in 0usize..400, bit in 0u8..8) {
            let mut bytes = encode(&sample_activation()).expect("encode");
            if flip < bytes.len() {
                bytes[flip] ^= 1 << bit;
            }
            bytes.truncate(cut.min(bytes.len()));
            let _ = decode::<Reply>(&bytes);
        }

        #[test]
        fn huge_announced_lengths_do_not_allocate(len in (1u64 << 32)..(1u64 << 62)) {
            // An effects vector claiming `len` entries with no bytes after.
            let mut bytes = vec![2u8, 0]; // Reply::Activated, result Ok
            bytes.extend_from_slice(&[0, 0]); // Duration
            let mut n = len;
            while n >= 0x80 {
                bytes.push((n as u8) | 0x80);
                n >>= 7;
            }
            bytes.push(n as u8);
            prop_assert!(decode::<Reply>(&bytes).is_err());
        }
    }
}
