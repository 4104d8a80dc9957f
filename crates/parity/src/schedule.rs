//! Whether the two models of a step are called one after the other or at the same time.

use std::{panic, thread};

/// How [`crate::compare_step`] and [`crate::compare_update`] call the two models. Either way
/// each model gets the same inputs, so the results are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// The reference, then the candidate, both on the calling thread: for a candidate that
    /// computes in this process, where the two would contend for the same cores.
    Sequential,
    /// The candidate on a second thread while the reference computes on the calling one (and
    /// keeps its thread settings, such as libtorch's thread count): for a candidate in another
    /// process, whose thread here mostly waits for its answer, so that its process and the
    /// reference compute at the same time.
    Concurrent,
}

impl Schedule {
    /// `reference()` and `candidate()`, scheduled so.
    pub(crate) fn both<R, C>(
        self,
        reference: impl FnOnce() -> R,
        candidate: impl FnOnce() -> C + Send,
    ) -> (R, C)
    where
        C: Send,
    {
        match self {
            Schedule::Sequential => {
                let r = reference();
                (r, candidate())
            }
            Schedule::Concurrent => thread::scope(|scope| {
                let other = scope.spawn(candidate);
                let r = reference();
                let c = other.join().unwrap_or_else(|p| panic::resume_unwind(p));
                (r, c)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{mpsc, Mutex};
    use std::time::Duration;

    use super::*;

    /// Concurrent means at the same time, the candidate on another thread: the reference,
    /// called first, waits for a message the candidate sends, which could not come before it
    /// gave up (after 10 s) if they ran in turn.
    #[test]
    fn concurrent_calls_overlap() {
        let (send, receive) = mpsc::channel();
        let here = thread::current().id();
        let (heard, there) = Schedule::Concurrent.both(
            || receive.recv_timeout(Duration::from_secs(10)).is_ok(),
            move || {
                send.send(()).expect("the reference is listening");
                thread::current().id()
            },
        );
        assert!(heard, "the candidate ran only after the reference");
        assert_ne!(there, here);
    }

    #[test]
    fn sequential_calls_the_reference_first_on_this_thread() {
        let here = thread::current().id();
        let order = Mutex::new(Vec::new());
        let push = |who| {
            order
                .lock()
                .expect("unpoisoned")
                .push((who, thread::current().id()))
        };
        Schedule::Sequential.both(|| push("reference"), || push("candidate"));
        let order = order.into_inner().expect("unpoisoned");
        assert_eq!(order, [("reference", here), ("candidate", here)]);
    }
}
