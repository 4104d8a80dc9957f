//! [`Disjoint`]: a slice the chunks of a pass write in disjoint pieces.

use std::marker::PhantomData;
use std::ops::Range;

/// A slice that the chunks of a pass write in disjoint pieces: each phase, every element
/// is either only read, or read and written by one chunk (or one thread) alone.
pub(crate) struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: handing out pieces across threads is what `Disjoint` is for; the callers of its
// unsafe methods promise that the pieces in use at the same time do not overlap.
unsafe impl<T: Send + Sync> Sync for Disjoint<'_, T> {}
unsafe impl<T: Send + Sync> Send for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub(crate) fn new(slice: &'a mut [T]) -> Self {
        Disjoint {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _borrow: PhantomData,
        }
    }

    /// The elements `range`, to read.
    ///
    /// # Safety
    /// No thread writes any of them while the returned slice is alive.
    pub(crate) unsafe fn get(&self, range: Range<usize>) -> &[T] {
        assert!(range.start <= range.end && range.end <= self.len);
        std::slice::from_raw_parts(self.ptr.add(range.start), range.len())
    }

    /// The elements `range`, to write.
    ///
    /// # Safety
    /// No other thread reads or writes any of them while the returned slice is alive.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len);
        std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len())
    }
}
