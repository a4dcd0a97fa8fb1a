//! Host state that belongs to a guest object (a `TextDecoder`'s streaming
//! decoder, a compression stream's codec) lives inside a JavaScript object
//! of its own class: when the guest drops the object, the engine's
//! finalizer frees the Rust state with it, at once for plain garbage and at
//! the next collection for garbage in cycles. There is no table keyed by
//! id, so garbage cannot exhaust a cap: each kind is capped by the states
//! alive right now, and a full cap first collects garbage, then refuses.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use rquickjs::class::{JsClass, Trace, Tracer, Writable};
use rquickjs::{Class, Constructor, Ctx, JsLifetime, Value as JsValue};

/// Host state a guest object owns (a `TextDecoder`'s decoder, a
/// compression stream's codec): one kind per type, each capped by how
/// many an isolate holds alive at once. Opened with
/// [`HostCall::open_state`](crate::HostCall::open_state).
pub trait HostState: 'static {
    /// The most states of this kind one isolate may hold alive.
    const MAX_LIVE: usize;
}

/// The live counts of an isolate's states, by kind.
#[derive(Default)]
pub(crate) struct StateCounts(RefCell<HashMap<TypeId, LiveCount>>);

/// How many states of one kind an isolate holds alive, and at most.
#[derive(Debug)]
struct LiveCount {
    live: Rc<Cell<usize>>,
    max: usize,
}

impl LiveCount {
    fn claim(&self) -> Option<Claim> {
        (self.live.get() < self.max).then(|| {
            self.live.set(self.live.get() + 1);
            Claim(self.live.clone())
        })
    }
}

/// One place under a [`LiveCount`], given back on drop.
struct Claim(Rc<Cell<usize>>);

impl Drop for Claim {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// The JavaScript object that owns one [`HostState`].
pub(crate) struct StateHandle {
    state: Option<(Box<dyn Any>, Claim)>,
}

// SAFETY: a `StateHandle` holds no JavaScript values, so it is the same
// type for every `'js` lifetime.
#[allow(unsafe_code)]
unsafe impl<'js> JsLifetime<'js> for StateHandle {
    type Changed<'to> = StateHandle;
}

impl<'js> Trace<'js> for StateHandle {
    fn trace<'a>(&self, _tracer: Tracer<'a, 'js>) {}
}

impl<'js> JsClass<'js> for StateHandle {
    const NAME: &'static str = "HostState";
    type Mutable = Writable;

    fn constructor(_ctx: &Ctx<'js>) -> rquickjs::Result<Option<Constructor<'js>>> {
        Ok(None)
    }
}

impl StateCounts {
    /// A place for one more state of kind `T`, if there is room.
    fn claim<T: HostState>(&self) -> Option<Claim> {
        self.0
            .borrow_mut()
            .entry(TypeId::of::<T>())
            .or_insert_with(|| LiveCount {
                live: Rc::new(Cell::new(0)),
                max: T::MAX_LIVE,
            })
            .claim()
    }
}

/// A new handle owning `state`, counted among its kind's; `None` if that
/// kind is full even after a garbage collection.
pub(crate) fn open<'js, T: HostState>(
    ctx: &Ctx<'js>,
    counts: &StateCounts,
    state: T,
) -> rquickjs::Result<Option<JsValue<'js>>> {
    let claim = match counts.claim::<T>() {
        Some(claim) => claim,
        None => {
            // Dropped objects in cycles still hold their states.
            ctx.run_gc();
            match counts.claim::<T>() {
                Some(claim) => claim,
                None => return Ok(None),
            }
        }
    };
    let handle = Class::instance(
        ctx.clone(),
        StateHandle {
            state: Some((Box::new(state), claim)),
        },
    )?;
    Ok(Some(handle.into_value()))
}

/// Runs `f` on the state of kind `T` that `value` owns; `None` if `value`
/// is not a handle, holds another kind, or its state was closed or is in
/// use.
pub(crate) fn with<T: HostState, R>(
    value: Option<&JsValue<'_>>,
    f: impl FnOnce(&mut T) -> R,
) -> Option<R> {
    let handle = Class::<StateHandle>::from_value(value?).ok()?;
    let mut handle = handle.try_borrow_mut().ok()?;
    let (state, _) = handle.state.as_mut()?;
    Some(f(state.downcast_mut::<T>()?))
}

/// Frees the state `value` owns now, before its object is collected.
pub(crate) fn close(value: Option<&JsValue<'_>>) {
    if let Some(handle) = value.and_then(|v| Class::<StateHandle>::from_value(v).ok())
        && let Ok(mut handle) = handle.try_borrow_mut()
    {
        handle.state = None;
    }
}
