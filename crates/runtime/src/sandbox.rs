//! Where a worker's isolate lives: in this process, or in a jailed worker
//! process. The driver uses both the same way.

use std::time::Duration;

use isola_engine::{Budget, CallSpec, Effect, Isolate, OpId, OpResult, TimerId};

use crate::jailed::supervisor::RemoteIsolate;
use crate::outcome::Stopped;

pub(crate) enum Sandbox {
    Local(Isolate),
    Jailed(RemoteIsolate),
}

impl Sandbox {
    // The activations are async: a jailed one waits on its process's
    // socket, and the executor thread serves other workers meanwhile. A
    // local one runs to its end when first polled.

    pub(crate) async fn call(
        &mut self,
        spec: CallSpec,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        match self {
            Self::Local(i) => i.call(spec, budget).map_err(Stopped::Limit),
            Self::Jailed(r) => r.call(spec, budget).await,
        }
    }

    pub(crate) async fn complete_op(
        &mut self,
        op: OpId,
        result: OpResult,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        match self {
            Self::Local(i) => i.complete_op(op, result, budget).map_err(Stopped::Limit),
            Self::Jailed(r) => r.complete_op(op, result, budget).await,
        }
    }

    pub(crate) async fn fire_timer(
        &mut self,
        timer: TimerId,
        budget: Budget,
    ) -> Result<Duration, Stopped> {
        match self {
            Self::Local(i) => i.fire_timer(timer, budget).map_err(Stopped::Limit),
            Self::Jailed(r) => r.fire_timer(timer, budget).await,
        }
    }

    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        match self {
            Self::Local(i) => i.take_effects(),
            Self::Jailed(r) => r.take_effects(),
        }
    }

    pub(crate) fn reset_log_budget(&mut self) {
        match self {
            Self::Local(i) => i.reset_log_budget(),
            Self::Jailed(r) => r.reset_log_budget(),
        }
    }

    pub(crate) fn set_memory_limit(&mut self, bytes: usize) {
        match self {
            Self::Local(i) => i.set_memory_limit(bytes),
            Self::Jailed(r) => r.set_memory_limit(bytes),
        }
    }

    pub(crate) fn memory_used(&self) -> usize {
        match self {
            Self::Local(i) => i.memory_used(),
            Self::Jailed(r) => r.memory_used(),
        }
    }

    pub(crate) fn peak_memory(&self) -> usize {
        match self {
            Self::Local(i) => i.peak_memory(),
            Self::Jailed(r) => r.peak_memory(),
        }
    }

    pub(crate) fn cpu_total(&self) -> Duration {
        match self {
            Self::Local(i) => i.cpu_total(),
            Self::Jailed(r) => r.cpu_total(),
        }
    }

    pub(crate) fn memory_budget_full(&self) -> bool {
        match self {
            Self::Local(i) => i.memory_budget_full(),
            Self::Jailed(r) => r.memory_budget_full(),
        }
    }
}
