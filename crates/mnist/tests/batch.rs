//! Epoch order and batches: sequential covers every index once, the seeded shuffle is a
//! reproducible permutation, batches are views or gathered rows of the right examples.

use mnist::{steps, Batcher, Dataset, EpochOrder};
use ndarray::{Array1, Array2};
use testkit::assert_close;

/// `n` examples; every pixel of row `i` is `i`, and its label is `i % 10`.
fn numbered(n: usize) -> Dataset {
    let images = Array2::from_shape_fn((n, 784), |(i, _)| i as f32);
    let labels = Array1::from_shape_fn(n, |i| (i % 10) as u8);
    Dataset::new(images, labels)
}

fn sorted(order: &EpochOrder) -> Vec<usize> {
    let mut indices: Vec<usize> = order.iter().collect();
    indices.sort_unstable();
    indices
}

#[test]
fn sequential_order_covers_every_index_once_in_order() {
    let order = EpochOrder::sequential(1000);
    assert_eq!(order.len(), 1000);
    assert_eq!(
        order.iter().collect::<Vec<_>>(),
        (0..1000).collect::<Vec<_>>()
    );
}

#[test]
fn seeded_shuffle_is_a_reproducible_permutation() {
    let order = EpochOrder::shuffled(1000, 42, 0);
    assert_eq!(
        sorted(&order),
        (0..1000).collect::<Vec<_>>(),
        "a permutation"
    );
    let identity: Vec<usize> = (0..1000).collect();
    assert_ne!(
        order.iter().collect::<Vec<_>>(),
        identity,
        "actually shuffled"
    );
    assert_eq!(
        order,
        EpochOrder::shuffled(1000, 42, 0),
        "same seed and epoch, same order"
    );
    assert_ne!(
        order,
        EpochOrder::shuffled(1000, 43, 0),
        "another seed, another order"
    );
    assert_ne!(
        order,
        EpochOrder::shuffled(1000, 42, 1),
        "another epoch, another order"
    );
}

#[test]
fn an_mnist_epoch_of_64s_has_938_steps_and_ends_with_32() {
    // 60000 = 937·64 + 32.
    assert_eq!(steps(60_000, 64, false), 938);
    assert_eq!(steps(60_000, 64, true), 937);
    assert_eq!(steps(64, 64, false), 1);
    assert_eq!(steps(0, 64, false), 0);

    let data = Dataset::new(Array2::zeros((60_000, 784)), Array1::zeros(60_000));
    let mut batcher = Batcher::new(64, false);
    assert_eq!(batcher.steps(data.len()), 938);
    for order in [
        EpochOrder::sequential(60_000),
        EpochOrder::shuffled(60_000, 7, 0),
    ] {
        let last = batcher.batch(&data, &order, 937);
        assert_eq!((last.images.dim(), last.labels.len()), ((32, 784), 32));
        let first = batcher.batch(&data, &order, 0);
        assert_eq!((first.images.dim(), first.labels.len()), ((64, 784), 64));
    }
    let mut dropping = Batcher::new(64, true);
    assert_eq!(dropping.steps(60_000), 937);
    let last = dropping.batch(&data, &EpochOrder::sequential(60_000), 936);
    assert_eq!(last.images.nrows(), 64);
}

#[test]
fn sequential_batches_are_views_into_the_dataset() {
    let data = numbered(10);
    let mut batcher = Batcher::new(4, false);
    let batch = batcher.batch(&data, &EpochOrder::sequential(10), 1);
    assert_eq!(
        batch.images.as_ptr(),
        data.images.row(4).as_ptr(),
        "no copy"
    );
    assert_eq!(batch.labels.to_vec(), vec![4, 5, 6, 7]);
}

#[test]
fn shuffled_batches_gather_the_rows_the_order_names() {
    let data = numbered(10);
    let order = EpochOrder::shuffled(10, 3, 0);
    let indices: Vec<usize> = order.iter().collect();
    let mut batcher = Batcher::new(4, false);
    let mut seen = Vec::new();
    for step in 0..batcher.steps(10) {
        let batch = batcher.batch(&data, &order, step);
        let want: Vec<usize> = indices[step * 4..(step * 4 + 4).min(10)].to_vec();
        for (row, &index) in batch.images.rows().into_iter().zip(&want) {
            // Every pixel of example `index` is `index`.
            assert_close(
                "gathered row",
                row.as_slice().expect("row-major"),
                &[index as f32; 784],
                0.0,
                0.0,
            );
        }
        let labels: Vec<u8> = want.iter().map(|&i| (i % 10) as u8).collect();
        assert_eq!(batch.labels.to_vec(), labels);
        seen.extend(want);
    }
    assert_eq!(
        seen, indices,
        "the epoch visits the examples in the order's sequence"
    );
}

#[test]
#[should_panic(expected = "the epoch order must cover the dataset")]
fn an_order_for_another_size_is_a_bug() {
    let data = numbered(10);
    Batcher::new(4, false).batch(&data, &EpochOrder::sequential(9), 0);
}
