use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;

#[test]
fn shares_cover_the_range_in_aligned_pieces() {
    for count in 1..5 {
        let mut next = 0;
        for index in 0..count {
            let piece = share(500, 6, index, count);
            assert_eq!(piece.start, next);
            assert!(piece.start.is_multiple_of(6));
            next = piece.end;
        }
        assert_eq!(next, 500);
    }
}

#[test]
fn every_chunk_runs_once_and_after_the_whole_phase_before() {
    for threads in 1..4 {
        for chunks in [1, 2, 3, 7] {
            let runs = Mutex::new(Vec::new());
            let started = AtomicUsize::new(0);
            run(threads, 5, chunks, |chunk| {
                assert!(chunk.worker < threads);
                // Every chunk of the phases before this one has started (and so finished:
                // none of this phase has).
                let before = started.fetch_add(1, Ordering::SeqCst);
                assert!(before >= chunk.phase * chunks, "{chunk:?} after {before}");
                runs.lock().unwrap().push((chunk.phase, chunk.index));
            });
            let mut runs = runs.into_inner().unwrap();
            runs.sort();
            let expected: Vec<_> = (0..5)
                .flat_map(|p| (0..chunks).map(move |c| (p, c)))
                .collect();
            assert_eq!(runs, expected, "{threads} threads, {chunks} chunks");
        }
    }
}

#[test]
fn a_stuck_thread_leaves_its_share_to_the_others() {
    // The first chunk taken by worker 1 waits until every other chunk is done: the caller
    // must take them all, including worker 1's home chunks.
    let (chunks, done) = (8, AtomicUsize::new(0));
    let stuck = AtomicUsize::new(0);
    run(2, 1, chunks, |chunk| {
        if chunk.worker == 1 && stuck.fetch_add(1, Ordering::SeqCst) == 0 {
            let start = Instant::now();
            while done.load(Ordering::SeqCst) < chunks - 1 {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "no one took over"
                );
                std::thread::yield_now();
            }
        }
        done.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(done.into_inner(), chunks);
}

#[test]
fn a_panic_in_any_chunk_reaches_the_caller_and_the_pool_survives() {
    for worker in 0..2 {
        let result = panic::catch_unwind(|| {
            run(2, 3, 2, |chunk| {
                if chunk.phase == 1 && chunk.index == worker {
                    panic!("deliberate");
                }
            })
        });
        assert!(result.is_err());
        let counter = AtomicUsize::new(0);
        run(2, 2, 3, |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(counter.into_inner(), 6);
    }
}
