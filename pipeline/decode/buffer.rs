//! Byte buffers kept per thread from one object to the next.
//!
//! An ingest of small objects reads and inflates thousands of them per second on every
//! decoding thread. Allocating each one's buffers afresh made the allocator hand pages back to
//! the kernel and fault them in again, zeroed, for the next object.

use std::cell::Cell;
use std::thread::LocalKey;

/// Larger buffers are freed after use rather than kept: a thread that once decoded a large
/// object should not hold its memory for the rest of the run.
pub const KEPT_BYTES_MAX: usize = 4 << 20;

/// Calls `f` with `key`'s buffer, emptied, and keeps it for the next call if it stayed at most
/// [`KEPT_BYTES_MAX`]. A call nested on the same thread (rayon runs another object's task while
/// one waits for its blocks) gets a new buffer, never the one in use.
pub fn with_thread_buffer<R>(
    key: &'static LocalKey<Cell<Vec<u8>>>,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    let mut buffer = key.take();
    buffer.clear();
    let result = f(&mut buffer);
    if buffer.capacity() <= KEPT_BYTES_MAX {
        key.set(buffer);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    }

    #[test]
    fn keeps_small_buffers_and_never_shares_one_in_use() {
        let kept = with_thread_buffer(&BUFFER, |buffer| {
            buffer.extend_from_slice(b"first");
            buffer.as_ptr() as usize
        });
        let (outer, inner, outer_capacity) = with_thread_buffer(&BUFFER, |outer| {
            assert!(outer.is_empty(), "a kept buffer comes back emptied");
            let inner = with_thread_buffer(&BUFFER, |inner| {
                inner.push(1);
                inner.as_ptr() as usize
            });
            (outer.as_ptr() as usize, inner, outer.capacity())
        });
        assert_eq!(outer, kept, "the small buffer was kept and reused");
        assert_ne!(inner, outer, "a nested call got its own buffer");
        assert!(outer_capacity >= b"first".len());
        with_thread_buffer(&BUFFER, |buffer| buffer.reserve(KEPT_BYTES_MAX + 1));
        let after_large = with_thread_buffer(&BUFFER, |buffer| buffer.capacity());
        assert!(after_large <= KEPT_BYTES_MAX, "a large buffer was not kept");
    }
}
