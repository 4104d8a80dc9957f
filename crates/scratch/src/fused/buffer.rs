//! Zeroed buffers whose first element sits on a 64-byte boundary, so that rows padded to
//! [`LANES`] elements start on a cache line and full-width vector loads never straddle two.

/// Elements per padded row unit: 16 `f32` = one 64-byte cache line (and one AVX-512 vector).
pub(crate) const LANES: usize = 16;

/// `n` rounded up to a whole number of [`LANES`]: the row stride of every padded matrix.
pub(crate) fn padded(n: usize) -> usize {
    n.next_multiple_of(LANES)
}

/// The row stride of a `(features, batch)` buffer for a batch of `m`: [`padded`], plus one
/// cache line when that is a whole number of kilobytes. With a stride of whole kilobytes the
/// rows of a product's operand (a column strip, one cache line per row, 784 rows deep) fall
/// in a few of the cache's sets and evict each other long before the cache is full: at batch
/// 1024 (4 KB), all of them in the same L1 set and in 16 of L2's.
pub(crate) fn batch_stride(m: usize) -> usize {
    let ld = padded(m);
    if ld.is_multiple_of(256) {
        ld + LANES
    } else {
        ld
    }
}

/// A fixed-length, zero-initialised, 64-byte-aligned slice of `T`.
#[derive(Debug, Clone)]
pub(crate) struct Buffer<T> {
    storage: Vec<T>,
    offset: usize,
    len: usize,
}

impl<T: Copy + Default> Buffer<T> {
    pub(crate) fn zeros(len: usize) -> Self {
        let slack = 64 / std::mem::size_of::<T>().max(1);
        let storage = vec![T::default(); len + slack];
        // The Vec never grows, so its data never moves and the offset stays right.
        let offset = storage.as_ptr().align_offset(64).min(slack);
        Buffer {
            storage,
            offset,
            len,
        }
    }
}

impl<T> Buffer<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        &self.storage[self.offset..self.offset + self.len]
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.storage[self.offset..self.offset + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_start_on_a_cache_line_and_are_zero() {
        for len in [1, 15, 16, 1000] {
            let b = Buffer::<f32>::zeros(len);
            assert_eq!(b.as_slice().as_ptr() as usize % 64, 0);
            assert_eq!(b.len(), len);
            testkit::assert_close("fresh buffer", b.as_slice(), &vec![0.0; len], 0.0, 0.0);
        }
        assert_eq!(padded(784), 784);
        assert_eq!(padded(500), 512);
        assert_eq!(padded(10), 16);
        assert_eq!(batch_stride(64), 64);
        assert_eq!(batch_stride(1000), 1008);
        assert_eq!(batch_stride(1024), 1040);
        assert_eq!(batch_stride(768), 784);
    }
}
