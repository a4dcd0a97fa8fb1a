//! The engine heap allocator: libc malloc, metered against a hard limit.
//!
//! QuickJS's own `set_memory_limit` makes a failed allocation an ordinary,
//! catchable `InternalError`. Metering here instead records that the limit was
//! reached, so the watchdog can end the run with the memory-limit outcome
//! however the guest reacts to the exception.
//!
//! Allocation is also where the CPU and wall clocks are looked at inside
//! native built-ins that allocate as they go (`Object.keys` of a million
//! properties, string building): see [`Watchdog::allocation_allowed`].
#![allow(unsafe_code)]

use std::rc::Rc;

use rquickjs::allocator::Allocator;

use crate::limits::Watchdog;

pub(crate) struct MeteredAllocator {
    watchdog: Rc<Watchdog>,
}

impl MeteredAllocator {
    pub(crate) fn new(watchdog: Rc<Watchdog>) -> Self {
        Self { watchdog }
    }

    /// Whether `extra` more bytes may be allocated: the clocks allow it and
    /// they fit the isolate's limit and the process budget.
    fn admits(&self, extra: usize) -> bool {
        self.watchdog.allocation_allowed(extra) && self.watchdog.memory.admits(extra)
    }

    fn account(&self, ptr: *mut u8) -> *mut u8 {
        if ptr.is_null() {
            self.watchdog.memory.refused_by_the_system();
        } else {
            // SAFETY: `ptr` was just returned by libc's allocator and is live.
            self.watchdog
                .memory
                .add(unsafe { libc::malloc_usable_size(ptr.cast()) });
        }
        ptr
    }
}

// SAFETY: every pointer handed out comes from libc malloc/calloc/realloc and is
// released only through libc free/realloc, so the allocator contract (usable
// size, alignment suitable for any type, realloc preserving contents) is libc's.
unsafe impl Allocator for MeteredAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admits(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: malloc may be called with any size; a null result is passed on.
        let ptr = unsafe { libc::malloc(size.max(1)) }.cast::<u8>();
        self.account(ptr)
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        if !self.admits(total) {
            return std::ptr::null_mut();
        }
        // SAFETY: calloc may be called with any sizes; a null result is passed on.
        let ptr = unsafe { libc::calloc(count.max(1), size.max(1)) }.cast::<u8>();
        self.account(ptr)
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: the caller passes a live pointer from this allocator.
        self.watchdog
            .memory
            .sub(unsafe { libc::malloc_usable_size(ptr.cast()) });
        // SAFETY: as above; it is not used again.
        unsafe { libc::free(ptr.cast()) };
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        if new_size == 0 {
            // SAFETY: `ptr` is live and from this allocator.
            unsafe { self.dealloc(ptr) };
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` is live and from this allocator.
        let old = unsafe { libc::malloc_usable_size(ptr.cast()) };
        if new_size > old && !self.admits(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` is live; on failure libc leaves it untouched and we keep its accounting.
        let grown = unsafe { libc::realloc(ptr.cast(), new_size) }.cast::<u8>();
        if grown.is_null() {
            self.watchdog.memory.refused_by_the_system();
            return grown;
        }
        self.watchdog.memory.sub(old);
        self.account(grown)
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller passes a live pointer from this allocator.
        unsafe { libc::malloc_usable_size(ptr.cast()) }
    }
}
