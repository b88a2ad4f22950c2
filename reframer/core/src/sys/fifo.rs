//! The scheduler's TX queue: a FIFO whose front can be moved to a caller's `Vec` with two
//! bulk copies, where a `VecDeque` pays a `pop_front` and a `push` per packet (~30
//! instructions per packet on the way out, callgrind).

use std::mem::MaybeUninit;
use std::ptr;

/// A ring of `T` with a power-of-two capacity that doubles when full.
pub(crate) struct Fifo<T> {
    /// Slots `head .. head + len` (modulo the capacity) are initialised; the rest are not.
    buf: Box<[MaybeUninit<T>]>,
    head: usize,
    len: usize,
}

impl<T> Fifo<T> {
    /// An empty FIFO with room for at least `cap` values.
    pub(crate) fn with_capacity(cap: usize) -> Self {
        Self {
            buf: Box::new_uninit_slice(Self::slots_for(cap)),
            head: 0,
            len: 0,
        }
    }

    fn slots_for(cap: usize) -> usize {
        cap.max(1).next_power_of_two()
    }

    /// Bytes [`Self::with_capacity`] allocates for `cap`.
    pub(crate) fn bytes_for(cap: usize) -> u64 {
        (Self::slots_for(cap) * size_of::<T>()) as u64
    }

    /// Slots allocated (a power of two).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push_back(&mut self, v: T) {
        if self.len == self.buf.len() {
            self.grow();
        }
        let i = (self.head + self.len) & (self.buf.len() - 1);
        self.buf[i].write(v);
        self.len += 1;
    }

    /// Moves the first `min(n, len)` values to the end of `out`, in order; returns how many.
    /// An emptied FIFO starts again at slot 0, so a queue drained after each release keeps
    /// reusing a few hot lines instead of walking its whole capacity.
    #[inline]
    pub(crate) fn move_front_to(&mut self, n: usize, out: &mut Vec<T>) -> usize {
        let n = n.min(self.len);
        out.reserve(n);
        let cap = self.buf.len();
        let first = n.min(cap - self.head);
        // SAFETY: the `n` values at `head ..` (wrapping at `cap`: `first` before the wrap,
        // `n - first` from slot 0; for `n == 1`, the one at `head`) are initialised
        // (`n <= len`); `reserve` made room for `n` more in `out`, so the copies write inside
        // its allocation, past its initialised part, and cannot overlap our buffer. The values are moved, not duplicated: `head`
        // and `len` below mark their slots uninitialised before anything can read them again.
        unsafe {
            let dst = out.as_mut_ptr().add(out.len());
            let src = self.buf.as_ptr().cast::<T>();
            if n == 1 {
                // A burst of one (the most common): a move, not a `memcpy` call.
                dst.write(src.add(self.head).read());
            } else {
                ptr::copy_nonoverlapping(src.add(self.head), dst, first);
                if n > first {
                    ptr::copy_nonoverlapping(src, dst.add(first), n - first);
                }
            }
            out.set_len(out.len() + n);
        }
        self.len -= n;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + n) & (cap - 1)
        };
        n
    }

    /// Doubles the capacity, moving the values to the start of the new buffer.
    #[cold]
    fn grow(&mut self) {
        let cap = self.buf.len();
        let mut new = Box::<[T]>::new_uninit_slice(cap * 2);
        let first = self.len.min(cap - self.head);
        // SAFETY: the `len` initialised values (`first` from `head`, the rest from slot 0)
        // are copied in order to the start of the new buffer, which has room for `2 cap`;
        // the old buffer is then dropped as `MaybeUninit`, which drops no value, so each
        // value is owned once.
        unsafe {
            let src = self.buf.as_ptr().cast::<T>();
            let dst = new.as_mut_ptr().cast::<T>();
            ptr::copy_nonoverlapping(src.add(self.head), dst, first);
            ptr::copy_nonoverlapping(src, dst.add(first), self.len - first);
        }
        self.buf = new;
        self.head = 0;
    }
}

impl<T> Drop for Fifo<T> {
    fn drop(&mut self) {
        let mut rest = Vec::new();
        self.move_front_to(self.len, &mut rest);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::Fifo;
    use crate::rng::SplitMix64;

    /// Random pushes and bulk moves (across the wrap, through growth, one value or many, to
    /// non-empty vectors) agree with a `VecDeque`: every value comes out once, in order
    /// (`String`s, so a duplicated or lost value would also be a double free or a leak
    /// under Miri).
    #[test]
    fn agrees_with_a_vecdeque() {
        let mut rng = SplitMix64(3);
        let mut f = Fifo::with_capacity(4);
        let mut model = VecDeque::new();
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let mut next = 0u32;
        for _ in 0..20_000 {
            let r = rng.next_u64();
            if r % 3 != 0 {
                for _ in 0..r % 7 {
                    f.push_back(next.to_string());
                    model.push_back(next.to_string());
                    next += 1;
                }
            } else {
                let n = (r >> 8) as usize % 12;
                let moved = f.move_front_to(n, &mut got);
                assert_eq!(moved, n.min(model.len()));
                want.extend(model.drain(..moved));
            }
            assert_eq!(f.len(), model.len());
            assert!(f.capacity().is_power_of_two() && f.capacity() >= f.len());
        }
        assert_eq!(got, want);
        drop(f);
    }
}
