//! The timers of one isolate as the host holds them: a capped set of live
//! timers, and the changes the driver has not taken yet, coalesced.
//!
//! A guest that arms and clears timers in a loop without yielding must not
//! grow a host-side queue: a timer cleared before the driver ever saw it
//! leaves nothing behind, so what is queued is bounded by what is live.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::ops::{CallId, Effect, TimerId};

/// The most timers an isolate may have armed at once (each is a task on
/// the host).
pub const MAX_TIMERS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Armed and not yet fired or cleared, with the call that armed it (its
    /// callback runs as that call).
    live: HashMap<TimerId, Option<CallId>>,
    /// Armed in the driver (taken, not yet fired or cancelled there).
    delivered: HashSet<TimerId>,
    /// Changes since the last take, in id order (the order timers of equal
    /// delay fire in): arm with a delay, or cancel.
    changes: BTreeMap<TimerId, Option<u64>>,
}

impl Timers {
    /// Arms (or re-arms) `id` for `call`; `false` if that would make more
    /// than [`MAX_TIMERS`] live.
    pub(crate) fn arm(&mut self, id: TimerId, delay_ms: u64, call: Option<CallId>) -> bool {
        if !self.live.contains_key(&id) && self.live.len() >= MAX_TIMERS {
            return false;
        }
        self.live.insert(id, call);
        self.changes.insert(id, Some(delay_ms));
        true
    }

    /// Clears `id`; a timer the driver never saw leaves nothing queued.
    pub(crate) fn cancel(&mut self, id: TimerId) {
        if self.live.remove(&id).is_none() {
            return;
        }
        if self.delivered.contains(&id) {
            self.changes.insert(id, None);
        } else {
            self.changes.remove(&id);
        }
    }

    /// `id` fired in the driver, which holds nothing for it any more; the
    /// call that armed it.
    pub(crate) fn fired(&mut self, id: TimerId) -> Option<CallId> {
        self.delivered.remove(&id);
        self.live.remove(&id).flatten()
    }

    /// The queued changes as effects for the driver.
    pub(crate) fn take(&mut self, effects: &mut Vec<Effect>) {
        for (id, change) in std::mem::take(&mut self.changes) {
            match change {
                Some(delay_ms) => {
                    self.delivered.insert(id);
                    effects.push(Effect::Timer { id, delay_ms });
                }
                None => {
                    self.delivered.remove(&id);
                    effects.push(Effect::CancelTimer { id });
                }
            }
        }
    }

    /// Entries held, for tests of the bound.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.live.len() + self.delivered.len() + self.changes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arming_and_clearing_without_yielding_queues_nothing() {
        let mut timers = Timers::default();
        for id in 1..=1_000_000 {
            assert!(timers.arm(id, 10, None));
            timers.cancel(id);
        }
        assert_eq!(timers.held(), 0);
        let mut effects = Vec::new();
        timers.take(&mut effects);
        assert!(effects.is_empty());
    }

    #[test]
    fn a_delivered_timer_is_cancelled_in_the_driver() {
        let mut timers = Timers::default();
        assert!(timers.arm(1, 5, None));
        assert!(timers.arm(2, 5, None));
        let mut effects = Vec::new();
        timers.take(&mut effects);
        assert_eq!(effects.len(), 2);
        timers.cancel(1);
        timers.fired(2);
        effects.clear();
        timers.take(&mut effects);
        assert!(matches!(
            effects.as_slice(),
            [Effect::CancelTimer { id: 1 }]
        ));
        assert_eq!(timers.held(), 0);
    }

    #[test]
    fn live_timers_are_capped_and_rearming_does_not_count_twice() {
        let mut timers = Timers::default();
        for id in 1..=MAX_TIMERS as u64 {
            assert!(timers.arm(id, 1, None));
        }
        assert!(!timers.arm(0, 1, None));
        assert!(timers.arm(7, 50, None), "re-arming a live timer");
        timers.cancel(7);
        assert!(timers.arm(0, 1, None));
    }
}
