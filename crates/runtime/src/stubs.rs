//! Routing for RPC stubs: functions and `RpcTarget`s one worker passes to
//! another as call arguments.
//!
//! The engine numbers a stub within the isolate that exported it. When the
//! arguments leave that worker's driver, each stub is renumbered here to a
//! loader-wide id naming the exporting worker and its own number, for as
//! long as the call carrying it is in flight (a [`Grant`]). The receiving
//! isolate calls back with the loader-wide id; its driver accepts only ids
//! it was handed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use isola_engine::Value;

use crate::worker::WorkerInner;

/// Where a loader-wide stub id points.
struct Target {
    worker: Weak<WorkerInner>,
    local: u64,
}

/// The loader's stubs in flight.
#[derive(Default)]
pub(crate) struct StubRegistry {
    next: AtomicU64,
    targets: Mutex<HashMap<u64, Target>>,
}

/// Keeps the stubs of one call's arguments routable; dropping it (when the
/// call ends) disposes them.
pub(crate) struct Grant {
    registry: Arc<StubRegistry>,
    ids: Vec<u64>,
}

impl Drop for Grant {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut targets = self
            .registry
            .targets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in &self.ids {
            targets.remove(id);
        }
    }
}

impl StubRegistry {
    /// Renumbers the stubs `exporter` put in `values` to loader-wide ids.
    pub(crate) fn export(
        self: &Arc<Self>,
        exporter: &Weak<WorkerInner>,
        values: &mut [Value],
    ) -> Grant {
        let mut ids = Vec::new();
        for value in values.iter_mut() {
            value.visit_stubs_mut(&mut |stub| {
                let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
                ids.push(id);
                let target = Target {
                    worker: exporter.clone(),
                    local: stub.id,
                };
                self.targets
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(id, target);
                stub.id = id;
            });
        }
        Grant {
            registry: self.clone(),
            ids,
        }
    }

    /// The worker holding stub `id` and its own number for it, while the
    /// call that carried it is in flight and the worker is alive.
    pub(crate) fn resolve(&self, id: u64) -> Option<(crate::Worker, u64)> {
        let targets = self
            .targets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let target = targets.get(&id)?;
        let inner = target.worker.upgrade()?;
        Some((crate::Worker { inner }, target.local))
    }
}

/// The stub ids inside `values`.
pub(crate) fn stub_ids(values: &mut [Value]) -> Vec<u64> {
    let mut ids = Vec::new();
    for value in values.iter_mut() {
        value.visit_stubs_mut(&mut |stub| ids.push(stub.id));
    }
    ids
}
