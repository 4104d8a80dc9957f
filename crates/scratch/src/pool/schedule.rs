//! When passes run on the caller alone: after a stall, a long wait in the middle of a pass for
//! a chunk that a descheduled thread holds (see the `pool` module's docs).

use std::time::{Duration, Instant};

/// A wait in the middle of a pass this long is a stall: about 5 times a phase of a quiet step
/// at batch 64 on two threads (issue 28's 0.411 s epoch is 0.44 ms a step, 55 µs a phase),
/// and less than the milliseconds a descheduled partner costs.
pub(super) const STALL: Duration = Duration::from_micros(300);
/// How long the passes after a first stall run on one thread.
pub(super) const SOLO_FIRST: Duration = Duration::from_millis(20);
/// The longest run on one thread after a stall: how long the pool can take to come back to
/// all threads once the machine is quiet again.
pub(super) const SOLO_LONGEST: Duration = Duration::from_secs(1);
/// A stall this long after the one before starts again from [`SOLO_FIRST`].
pub(super) const SOLO_FORGET: Duration = Duration::from_secs(2);

/// The caller's side of the pool, between passes.
#[derive(Default)]
pub(super) struct Schedule {
    /// Workers started so far (they are numbered from 1).
    pub(super) spawned: usize,
    /// Until when passes run on the caller alone, after a stall.
    pub(super) solo_until: Option<Instant>,
    /// How long the last stall sent them there.
    solo_for: Duration,
    last_stall: Option<Instant>,
}

impl Schedule {
    pub(super) fn stalled(&mut self) {
        let now = Instant::now();
        self.solo_for = match self.last_stall {
            Some(t) if now - t < SOLO_FORGET => (self.solo_for * 2).min(SOLO_LONGEST),
            _ => SOLO_FIRST,
        };
        self.last_stall = Some(now);
        self.solo_until = Some(now + self.solo_for);
    }
}

/// A thread's last chunk, to tell a stall (a long wait in the middle of a pass) from the waits
/// of an idle thread between passes.
#[derive(Debug, Clone, Copy)]
pub(super) struct LastChunk {
    /// Its pass, by the number of the pass's first phase.
    pub(super) pass: u32,
    pub(super) ended: Instant,
    pub(super) took: Duration,
}

impl LastChunk {
    /// Whether the thread has waited so long since this chunk, in pass `pass`, that it is a
    /// stall.
    pub(super) fn stalled_in(self, pass: u32) -> bool {
        self.pass == pass && self.ended.elapsed() > STALL.max(self.took)
    }
}
