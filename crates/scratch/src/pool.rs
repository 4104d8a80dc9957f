//! The threads that share each pass through the network, and the process-wide thread count.
//!
//! A pass is a sequence of phases, each made of chunks of work that may run in any order and
//! on any thread, and every chunk of a phase finishes before a chunk of the next one starts
//! ([`run`]). The threads take chunks from one shared counter: a thread that the OS has
//! descheduled holds up the others only while it holds a chunk, and the one that runs does
//! the rest. Whoever finishes a phase's last chunk opens the next phase, so no thread waits for
//! a particular other one (no barrier counts threads). A chunk's work and where it writes are
//! fixed by the phase and the chunk's index, never by the thread that runs it, so a pass gives
//! the same bits whichever thread runs which chunk.
//!
//! Waits are bounded: a thread with nothing to take spins for [`SPIN`] (waking a parked thread
//! costs tens of microseconds on this VM, more than a phase of a small batch), then yields its
//! core between polls, in case a partner that shares it holds the chunk it waits for, and
//! after [`PARK_AFTER`] parks until the next phase opens. Idle workers park after
//! [`IDLE_WAIT`].
//!
//! A thread descheduled while it holds a chunk still holds up the rest until the OS runs it
//! again, which on a busy machine is milliseconds later, again and again. So a thread that
//! waits in the middle of a pass longer than [`STALL`](schedule::STALL) (and longer than its own last chunk
//! took) reports a stall, and the passes of the next [`SOLO_FIRST`](schedule::SOLO_FIRST) (doubling on each stall
//! that follows within [`SOLO_FORGET`](schedule::SOLO_FORGET), up to [`SOLO_LONGEST`](schedule::SOLO_LONGEST)) run on the caller alone, with
//! the same chunks: a busy machine costs at most what one core costs, and changes no result.

mod disjoint;
mod schedule;

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

pub(crate) use disjoint::Disjoint;
use schedule::{LastChunk, Schedule};

/// The thread count set by [`set_threads`]; 0 means "not set".
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Most threads a pass can use (the count is packed beside the phase's counters in one atomic).
pub const MAX_THREADS: usize = 255;
/// Most chunks a phase can have (its counters are 12 bits each).
const MAX_CHUNKS: usize = (1 << 12) - 1;
/// How long a thread spins for the next chunk before it starts yielding its core.
const SPIN: Duration = Duration::from_micros(20);
/// How long a thread waits for a phase to finish or open before it parks.
const PARK_AFTER: Duration = Duration::from_millis(1);
/// How long an idle worker waits for the next phase before it parks.
const IDLE_WAIT: Duration = Duration::from_micros(100);
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

/// One chunk of a pass, as [`run`] hands it to the job.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk {
    /// The phase, `0..phases`.
    pub phase: usize,
    /// The chunk within the phase, `0..chunks`: it decides what the chunk computes.
    pub index: usize,
    /// The thread running it, `0..threads` (the caller of [`run`] is 0): for buffers of the
    /// thread's own, never for what the chunk computes.
    pub worker: usize,
}

/// Piece `index` of `count` of `0..len`: contiguous, in order of `index`, with inner
/// boundaries on multiples of `align` (so that each piece is made of whole kernel tiles).
pub(crate) fn share(
    len: usize,
    align: usize,
    index: usize,
    count: usize,
) -> std::ops::Range<usize> {
    let units = len.div_ceil(align);
    let bound = |i: usize| (units * i / count * align).min(len);
    bound(index)..bound(index + 1)
}

/// Runs `phases` phases of `chunks` chunks each of `job` on up to `threads` threads, the
/// caller among them, and returns when all have finished. A panic in any chunk is re-raised
/// here once the pass is over (the chunks after it are skipped).
///
/// # Panics
/// If `threads` is not in `1..=MAX_THREADS` or `chunks` not in `1..=4095`.
pub(crate) fn run<F: Fn(Chunk) + Sync>(threads: usize, phases: usize, chunks: usize, job: F) {
    assert!((1..=MAX_THREADS).contains(&threads), "{threads} threads");
    assert!((1..=MAX_CHUNKS).contains(&chunks), "{chunks} chunks");
    if threads == 1 {
        for phase in 0..phases {
            for index in 0..chunks {
                job(Chunk {
                    phase,
                    index,
                    worker: 0,
                });
            }
        }
        return;
    }
    if phases == 0 {
        return;
    }
    let pool = POOL.get_or_init(Pool::default);
    let shared = &*pool.shared;
    // One pass at a time: concurrent callers (tests, two models) take turns.
    let mut schedule = pool.schedule.lock().unwrap_or_else(PoisonError::into_inner);
    if schedule.solo_until.is_some_and(|t| Instant::now() < t) {
        drop(schedule);
        return run(1, phases, chunks, job);
    }
    while schedule.spawned + 1 < threads {
        schedule.spawned += 1;
        let (index, worker_shared) = (schedule.spawned, Arc::clone(&pool.shared));
        let handle = thread::Builder::new()
            .name(format!("scratch-{index}"))
            .spawn(move || worker(&worker_shared, index))
            .expect("spawning a scratch worker thread");
        // Each index is spawned once, under the lock.
        let _ = shared.workers[index].set(handle.thread().clone());
    }
    *shared.caller.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread::current());

    let job: &(dyn Fn(Chunk) + Sync) = &job;
    let first = Work::unpack(shared.work.load(Ordering::Acquire))
        .phase
        .wrapping_add(1);
    let pass = PassRef { job, first, phases };
    // The workers read the pass through this pointer only while they hold a chunk of it, and
    // the pass does not end (so this function does not return) before every chunk is done.
    shared
        .pass
        .store(&pass as *const PassRef<'_> as *mut (), Ordering::Relaxed);
    // No thread holds a claim between passes, so none reads these now.
    for taken_in in &shared.taken_in[..chunks] {
        taken_in.store(first.wrapping_sub(1), Ordering::Relaxed);
    }
    shared.open(first, threads, chunks);
    let end = first.wrapping_add(phases as u32);
    let mut last = None;
    loop {
        if shared.claim_and_run(0, &mut last) {
            continue;
        }
        let over = || Work::unpack(shared.work.load(Ordering::Acquire)).phase == end;
        if over() {
            break;
        }
        wait(PARK_AFTER, || over() || shared.claimable(0));
    }
    let stalled_at_the_end = last.is_some_and(|last| last.stalled_in(first));
    if shared.stalled.swap(false, Ordering::AcqRel) || stalled_at_the_end {
        schedule.stalled();
    }
    shared.panicked.store(false, Ordering::Relaxed);
    let payload = shared
        .payload
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    drop(schedule);
    if let Some(payload) = payload {
        panic::resume_unwind(payload);
    }
}

static POOL: OnceLock<Pool> = OnceLock::new();

#[derive(Default)]
struct Pool {
    shared: Arc<Shared>,
    /// Held for the whole of a pass.
    schedule: Mutex<Schedule>,
}

/// The pass in progress, on [`run`]'s stack.
struct PassRef<'a> {
    job: &'a (dyn Fn(Chunk) + Sync),
    /// The number of its first phase in [`Work::phase`]'s count.
    first: u32,
    phases: usize,
}

/// The state of the open phase, packed in one `u64` so that a thread claims a chunk of the
/// phase it saw, or none, in one compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Work {
    /// Phases opened since the pool started (wrapping); the pass is over when the phase after
    /// its last is "open" with no chunks.
    phase: u32,
    threads: usize,
    claimed: usize,
    chunks: usize,
}

impl Work {
    fn pack(self) -> u64 {
        u64::from(self.phase) << 32
            | (self.threads as u64) << 24
            | (self.claimed as u64) << 12
            | self.chunks as u64
    }

    fn unpack(word: u64) -> Work {
        Work {
            phase: (word >> 32) as u32,
            threads: (word >> 24 & 0xff) as usize,
            claimed: (word >> 12 & 0xfff) as usize,
            chunks: (word & 0xfff) as usize,
        }
    }

    fn claimable_by(self, worker: usize) -> bool {
        worker < self.threads && self.claimed < self.chunks
    }
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

struct Shared {
    /// The open phase, packed ([`Work`]).
    work: Padded<AtomicU64>,
    /// Chunks of the open phase finished.
    finished: Padded<AtomicUsize>,
    /// Points at the [`PassRef`] of the pass in progress.
    pass: AtomicPtr<()>,
    /// Set by a chunk that panicked, so that the rest are skipped.
    panicked: AtomicBool,
    /// Set by a thread that waited too long in the middle of the pass (see [`STALL`](schedule::STALL)).
    stalled: AtomicBool,
    /// The first panic's payload, for the caller to re-raise.
    payload: Mutex<Option<Box<dyn Any + Send>>>,
    /// The caller of the pass in progress, to wake when a phase opens or the pass ends.
    caller: Mutex<Option<Thread>>,
    /// The workers by index (0, the caller, has no entry), to wake when a phase opens.
    workers: Box<[OnceLock<Thread>]>,
    /// By chunk index: the phase in which the chunk was last taken.
    taken_in: Box<[AtomicU32]>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            work: Padded::default(),
            finished: Padded::default(),
            pass: AtomicPtr::default(),
            panicked: AtomicBool::default(),
            stalled: AtomicBool::default(),
            payload: Mutex::default(),
            caller: Mutex::default(),
            workers: (0..=MAX_THREADS).map(|_| OnceLock::new()).collect(),
            taken_in: (0..MAX_CHUNKS).map(|_| AtomicU32::new(0)).collect(),
        }
    }
}

impl Shared {
    /// Opens phase `phase` with `chunks` chunks (0: the pass is over) and wakes its threads.
    fn open(&self, phase: u32, threads: usize, chunks: usize) {
        let work = Work {
            phase,
            threads,
            claimed: 0,
            chunks,
        };
        self.work.store(work.pack(), Ordering::Release);
        if chunks > 0 {
            for worker in self.workers[1..threads].iter().filter_map(OnceLock::get) {
                worker.unpark();
            }
        }
        if let Some(caller) = &*self.caller.lock().unwrap_or_else(PoisonError::into_inner) {
            caller.unpark();
        }
    }

    fn claimable(&self, worker: usize) -> bool {
        Work::unpack(self.work.load(Ordering::Acquire)).claimable_by(worker)
    }

    /// Claims a chunk of the open phase and runs it; false if there was none to claim. A
    /// thread reserves a claim on the phase's counter, then takes the first free chunk from
    /// its home one on (worker `w` of `t` starts at chunk `w·chunks/t`), so that when all
    /// threads run, each does the same rows of every layer in every pass, and they stay in
    /// its core's cache.
    fn claim_and_run(&self, worker: usize, last: &mut Option<LastChunk>) -> bool {
        let mut word = self.work.load(Ordering::Acquire);
        let work = loop {
            let work = Work::unpack(word);
            if !work.claimable_by(worker) {
                return false;
            }
            let claimed = Work {
                claimed: work.claimed + 1,
                ..work
            };
            match self.work.compare_exchange_weak(
                word,
                claimed.pack(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break work,
                Err(now) => word = now,
            }
        };
        // Every chunk was taken once in each earlier phase of the pass, so a free chunk is one
        // last taken in the phase before; the reservation guarantees that one is left.
        let (taken, free) = (work.phase, work.phase.wrapping_sub(1));
        let home = worker * work.chunks / work.threads;
        let index = (0..work.chunks)
            .map(|k| (home + k) % work.chunks)
            .find(|&c| {
                self.taken_in[c]
                    .compare_exchange(free, taken, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            })
            .expect("a reserved claim finds a free chunk");
        // SAFETY: `run` stored the pointer before opening the pass's first phase (release;
        // our claim acquired it), and the pass cannot end while we hold one of its chunks.
        let pass = unsafe { &*(self.pass.load(Ordering::Relaxed) as *const PassRef<'_>) };
        let chunk = Chunk {
            phase: work.phase.wrapping_sub(pass.first) as usize,
            index,
            worker,
        };
        let (number, last_phase) = (pass.first, chunk.phase + 1 == pass.phases);
        if last.is_some_and(|last| last.stalled_in(number)) {
            self.stalled.store(true, Ordering::Relaxed);
        }
        let start = Instant::now();
        if !self.panicked.load(Ordering::Acquire) {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| (pass.job)(chunk))) {
                self.panicked.store(true, Ordering::Release);
                let mut first = self.payload.lock().unwrap_or_else(PoisonError::into_inner);
                first.get_or_insert(payload);
            }
        }
        let ended = Instant::now();
        *last = Some(LastChunk {
            pass: number,
            ended,
            took: ended - start,
        });
        if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == work.chunks {
            self.finished.store(0, Ordering::Relaxed);
            let next = work.phase.wrapping_add(1);
            self.open(next, work.threads, if last_phase { 0 } else { work.chunks });
        }
        true
    }
}

fn worker(shared: &Shared, index: usize) {
    let mut last = None;
    loop {
        if !shared.claim_and_run(index, &mut last) {
            wait(IDLE_WAIT, || shared.claimable(index));
        }
    }
}

/// Returns once `ready()` is true: polls it, spinning for up to [`SPIN`], then yielding the
/// core between polls, and from `park_after` on parking between polls. Every change that can
/// make it true (a phase opening, a pass ending) unparks the threads that may wait for it; an
/// unpark that comes before the park makes the park return at once, so none is lost.
fn wait(park_after: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut polls = 0u32;
    let mut waited = Duration::ZERO;
    while !ready() {
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(64) {
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

#[cfg(test)]
mod tests;
