//! The threads that share each pass through the network, and the process-wide thread count.
//!
//! A pass is one [`run`] of a closure on every thread at once (the caller is thread 0), split
//! into phases by [`Ctx::barrier`]. Workers are started once. Waits inside a pass (at a
//! barrier, for the workers to finish) spin: a barrier between two spinning cores costs well
//! under a microsecond, while waking a parked thread costs tens of microseconds on this VM
//! (measured: parking after 50 µs doubled the epoch time at two threads). After 100 µs a
//! waiting thread yields its core between polls, in case its partner is waiting for it, and
//! after 2 ms it parks until whoever ends the wait unparks it. Idle workers wait for the next
//! pass by spinning for 100 µs, then parking.

use std::marker::PhantomData;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The thread count set by [`set_threads`]; 0 means "not set".
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Most threads a pass can use (the count is packed beside the pass number in one atomic).
pub const MAX_THREADS: usize = 255;
/// How long an idle worker waits for the next pass before it parks.
const IDLE_WAIT: Duration = Duration::from_micros(100);
/// How long a thread waits at a barrier, or the caller for the workers, before it parks.
const PASS_WAIT: Duration = Duration::from_millis(2);
/// How long a waiting thread spins before it starts yielding its core between polls.
const SPIN: Duration = Duration::from_micros(100);

/// Sets how many threads the scratch model uses for its work, process-wide, from the next
/// pass on. `0` restores the default, the number of CPUs available to the process.
///
/// # Panics
/// If `n` is above [`MAX_THREADS`].
pub fn set_threads(n: usize) {
    assert!(n <= MAX_THREADS, "at most {MAX_THREADS} threads, not {n}");
    THREADS.store(n, Ordering::Relaxed);
}

/// The thread count the next pass will use.
pub(crate) fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS)),
        n => n,
    }
}

/// What a thread knows about the pass it is part of.
pub(crate) struct Ctx<'a> {
    /// This thread's index, `0..threads`; the caller of [`run`] is 0.
    pub tid: usize,
    /// Threads taking part in the pass.
    pub threads: usize,
    shared: &'a Shared,
    /// The pass's threads, by index, to unpark.
    handles: &'a [Thread],
}

impl Ctx<'_> {
    /// Waits until every thread of the pass has reached this barrier; everything written
    /// before it by any thread is visible to all threads after it.
    pub fn barrier(&self) {
        if self.threads == 1 {
            return;
        }
        let shared = self.shared;
        let generation = shared.generation.load(Ordering::Acquire);
        if shared.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            shared.arrived.store(0, Ordering::Relaxed);
            shared.generation.fetch_add(1, Ordering::Release);
            self.unpark_others();
            return;
        }
        wait(PASS_WAIT, || {
            assert!(
                !shared.panicked.load(Ordering::Acquire),
                "another scratch thread panicked"
            );
            shared.generation.load(Ordering::Acquire) != generation
        });
    }

    /// This thread's share of `0..len`: contiguous, in order of `tid`, with inner boundaries
    /// on multiples of `align` (so that each share is made of whole kernel tiles).
    pub fn share(&self, len: usize, align: usize) -> Range<usize> {
        let units = len.div_ceil(align);
        let bound = |t: usize| (units * t / self.threads * align).min(len);
        bound(self.tid)..bound(self.tid + 1)
    }

    fn unpark_others(&self) {
        for (tid, handle) in self.handles[..self.threads].iter().enumerate() {
            if tid != self.tid {
                handle.unpark();
            }
        }
    }
}

/// Runs `job` once on each of `threads` threads, the caller among them, and returns when all
/// have finished. A panic on any thread is re-raised here, after all have stopped.
pub(crate) fn run<F: Fn(&Ctx<'_>) + Sync>(threads: usize, job: F) {
    assert!((1..=MAX_THREADS).contains(&threads), "{threads} threads");
    let pool = POOL.get_or_init(Pool::default);
    let shared = &pool.shared;
    if threads == 1 {
        return job(&Ctx {
            tid: 0,
            threads,
            shared,
            handles: &[],
        });
    }
    // One pass at a time: concurrent callers (tests, two models) take turns.
    let mut handles = pool.handles.lock().unwrap_or_else(|e| e.into_inner());
    match handles.first_mut() {
        Some(caller) => *caller = thread::current(),
        None => handles.push(thread::current()),
    }
    while handles.len() < threads {
        let index = handles.len();
        let seen = shared.ticket.load(Ordering::Acquire);
        let worker_shared = Arc::clone(shared);
        let handle = thread::Builder::new()
            .name(format!("scratch-{index}"))
            .spawn(move || worker(&worker_shared, index, seen))
            .expect("spawning a scratch worker thread");
        handles.push(handle.thread().clone());
    }
    let handles = &handles[..];

    let job: &(dyn Fn(&Ctx<'_>) + Sync) = &job;
    // The workers read the job and the handles through these pointers only between the
    // ticket below and their `done` increment, and this function does not return (nor let go
    // of the handles' lock) before all have incremented it.
    shared.job.store(
        &job as *const &(dyn Fn(&Ctx<'_>) + Sync) as *mut (),
        Ordering::Relaxed,
    );
    shared
        .handles
        .store(handles.as_ptr().cast_mut(), Ordering::Relaxed);
    shared.done.store(0, Ordering::Relaxed);
    let pass = shared.ticket.load(Ordering::Relaxed) / (MAX_THREADS + 1) + 1;
    shared
        .ticket
        .store(pass * (MAX_THREADS + 1) + threads, Ordering::Release);
    let ctx = Ctx {
        tid: 0,
        threads,
        shared,
        handles,
    };
    ctx.unpark_others();

    let outcome = panic::catch_unwind(AssertUnwindSafe(|| job(&ctx)));
    if outcome.is_err() {
        shared.panicked.store(true, Ordering::Release);
        ctx.unpark_others();
    }
    wait(PASS_WAIT, || {
        shared.done.load(Ordering::Acquire) == threads - 1
    });
    let worker_panicked = shared.panicked.swap(false, Ordering::AcqRel);
    shared.arrived.store(0, Ordering::Relaxed);
    if let Err(payload) = outcome {
        panic::resume_unwind(payload);
    }
    assert!(!worker_panicked, "a scratch worker thread panicked");
}

static POOL: OnceLock<Pool> = OnceLock::new();

#[derive(Default)]
struct Pool {
    shared: Arc<Shared>,
    /// The threads of a pass by index: the caller of the current pass, then the workers.
    handles: Mutex<Vec<Thread>>,
}

/// Keeps the counters that different threads hammer on different cache lines.
#[derive(Default)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[derive(Default)]
struct Shared {
    /// Pass number × 256 + threads in the pass, so that workers read both at once.
    ticket: Padded<AtomicUsize>,
    /// Points at the `&dyn Fn` of the current pass, on [`run`]'s stack.
    job: AtomicPtr<()>,
    /// Points at the handles of the current pass's threads, locked by [`run`].
    handles: AtomicPtr<Thread>,
    /// Workers that have finished the current pass.
    done: Padded<AtomicUsize>,
    /// Threads waiting at the current barrier.
    arrived: Padded<AtomicUsize>,
    /// Barriers completed; waiting threads watch it change.
    generation: Padded<AtomicUsize>,
    /// Set when a thread of the pass panicked, so that the others leave their barriers.
    panicked: AtomicBool,
}

fn worker(shared: &Shared, index: usize, mut seen: usize) {
    loop {
        let mut ticket = seen;
        wait(IDLE_WAIT, || {
            ticket = shared.ticket.load(Ordering::Acquire);
            ticket != seen
        });
        seen = ticket;
        let threads = ticket % (MAX_THREADS + 1);
        if index >= threads {
            continue;
        }
        // SAFETY: `run` stored pointers to a live `&dyn Fn` and to `threads` handles before
        // publishing this ticket (release/acquire on `ticket`), and keeps both alive and
        // unchanged until we increment `done`.
        let (job, handles) = unsafe {
            (
                *(shared.job.load(Ordering::Relaxed) as *const &(dyn Fn(&Ctx<'_>) + Sync)),
                std::slice::from_raw_parts(shared.handles.load(Ordering::Relaxed), threads),
            )
        };
        let ctx = Ctx {
            tid: index,
            threads,
            shared,
            handles,
        };
        if panic::catch_unwind(AssertUnwindSafe(|| job(&ctx))).is_err() {
            shared.panicked.store(true, Ordering::Release);
            ctx.unpark_others();
        }
        // Cloned first: once `done` is complete, `run` may return and the handles change.
        let caller = handles[0].clone();
        if shared.done.fetch_add(1, Ordering::AcqRel) + 1 == threads - 1 {
            caller.unpark();
        }
    }
}

/// Returns once `ready()` is true: polls it, spinning for up to [`SPIN`], then yielding the
/// core between polls, and from `park_after` on parking between polls. Whoever makes it true
/// unparks this thread afterwards; an unpark that comes before the park makes the park return
/// at once, so no wake-up is lost.
fn wait(park_after: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut polls = 0u32;
    let mut waited = Duration::ZERO;
    while !ready() {
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(256) {
            waited = start.elapsed();
        }
        if waited < SPIN.min(park_after) {
            std::hint::spin_loop();
        } else if waited < park_after {
            thread::yield_now();
        } else {
            thread::park();
        }
    }
}

/// A slice that the threads of one pass write in disjoint pieces: each phase, every element
/// is either only read, or read and written by one thread alone.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_range_in_aligned_pieces() {
        let pool = Shared::default();
        for threads in 1..5 {
            let mut next = 0;
            for tid in 0..threads {
                let ctx = Ctx {
                    tid,
                    threads,
                    shared: &pool,
                    handles: &[],
                };
                let share = ctx.share(500, 6);
                assert_eq!(share.start, next);
                assert!(share.start.is_multiple_of(6));
                next = share.end;
            }
            assert_eq!(next, 500);
        }
    }

    #[test]
    fn every_thread_runs_each_phase_after_the_last() {
        let counter = AtomicUsize::new(0);
        for _ in 0..50 {
            counter.store(0, Ordering::SeqCst);
            let seen = Mutex::new(Vec::new());
            let threads = AtomicUsize::new(0);
            run(super::threads(), |ctx| {
                threads.store(ctx.threads, Ordering::SeqCst);
                counter.fetch_add(1, Ordering::SeqCst);
                ctx.barrier();
                // Every thread must see every increment made before the barrier.
                seen.lock().unwrap().push(counter.load(Ordering::SeqCst));
                ctx.barrier();
            });
            let (seen, threads) = (seen.into_inner().unwrap(), threads.into_inner());
            assert_eq!(seen.len(), threads);
            assert!(seen.iter().all(|&c| c == threads), "{seen:?}");
        }
    }

    #[test]
    fn a_panic_on_any_thread_reaches_the_caller_and_the_pool_survives() {
        let result = panic::catch_unwind(|| {
            run(super::threads(), |ctx| {
                if ctx.tid == ctx.threads - 1 {
                    panic!("deliberate");
                }
                ctx.barrier();
            })
        });
        assert!(result.is_err());
        let (counter, threads) = (AtomicUsize::new(0), AtomicUsize::new(0));
        run(super::threads(), |ctx| {
            threads.store(ctx.threads, Ordering::SeqCst);
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(
            counter.load(Ordering::SeqCst),
            threads.load(Ordering::SeqCst)
        );
    }
}
