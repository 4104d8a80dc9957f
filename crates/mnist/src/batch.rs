//! [`Batch`]es borrowed from the one in-memory copy of the data, and the order of an epoch.

use contract::{Batch, INPUT_SIZE};
use ndarray::{s, Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;

/// The order in which one epoch visits the examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpochOrder {
    /// `0..len` in order, as the assignment's DataLoader (no shuffle).
    Sequential { len: usize },
    /// A permutation of `0..len`.
    Shuffled { permutation: Vec<usize> },
}

impl EpochOrder {
    pub fn sequential(len: usize) -> Self {
        EpochOrder::Sequential { len }
    }

    /// A permutation of `0..len` drawn from ChaCha8 keyed by `seed` on stream `epoch`: every
    /// epoch differs, and the same `(seed, epoch)` always gives the same order.
    pub fn shuffled(len: usize, seed: u64, epoch: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(epoch);
        let mut permutation: Vec<usize> = (0..len).collect();
        permutation.shuffle(&mut rng);
        EpochOrder::Shuffled { permutation }
    }

    /// Number of examples the epoch visits.
    pub fn len(&self) -> usize {
        match self {
            EpochOrder::Sequential { len } => *len,
            EpochOrder::Shuffled { permutation } => permutation.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The example indices in visiting order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            EpochOrder::Sequential { len } => Box::new(0..*len),
            EpochOrder::Shuffled { permutation } => Box::new(permutation.iter().copied()),
        }
    }
}

/// Steps in an epoch of `n` examples: the last, short batch counts unless `drop_last`
/// (as torch's DataLoader). Panics if `batch_size` is 0.
pub fn steps(n: usize, batch_size: usize, drop_last: bool) -> usize {
    assert!(batch_size > 0, "batch size must be positive");
    if drop_last {
        n / batch_size
    } else {
        n.div_ceil(batch_size)
    }
}

/// Hands out the batches of an epoch. In sequential order a batch is a view into the
/// dataset (no copy); in shuffled order its rows are gathered into a buffer owned here and
/// reused, so no step allocates.
#[derive(Debug, Clone)]
pub struct Batcher {
    batch_size: usize,
    drop_last: bool,
    images: Array2<f32>,
    labels: Array1<u8>,
}

impl Batcher {
    /// Panics if `batch_size` is 0.
    pub fn new(batch_size: usize, drop_last: bool) -> Self {
        assert!(batch_size > 0, "batch size must be positive");
        Batcher {
            batch_size,
            drop_last,
            images: Array2::zeros((0, INPUT_SIZE)),
            labels: Array1::zeros(0),
        }
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Steps in an epoch of `n` examples; see [`steps`].
    pub fn steps(&self, n: usize) -> usize {
        steps(n, self.batch_size, self.drop_last)
    }

    /// Batch number `step` of the epoch that visits `data` in `order`. Panics if `order`
    /// does not cover `data` or `step` is past the epoch's end.
    pub fn batch<'a>(
        &'a mut self,
        data: &'a Dataset,
        order: &EpochOrder,
        step: usize,
    ) -> Batch<'a> {
        let n = data.len();
        assert_eq!(order.len(), n, "the epoch order must cover the dataset");
        assert!(
            step < self.steps(n),
            "step {step} is past the end of the epoch"
        );
        let start = step * self.batch_size;
        let end = (start + self.batch_size).min(n);
        match order {
            EpochOrder::Sequential { .. } => Batch {
                images: data.images.slice(s![start..end, ..]),
                labels: data.labels.slice(s![start..end]),
            },
            EpochOrder::Shuffled { permutation } => {
                if self.labels.len() < self.batch_size {
                    self.images = Array2::zeros((self.batch_size, INPUT_SIZE));
                    self.labels = Array1::zeros(self.batch_size);
                }
                for (row, &index) in permutation[start..end].iter().enumerate() {
                    self.images.row_mut(row).assign(&data.images.row(index));
                    self.labels[row] = data.labels[index];
                }
                let rows = end - start;
                Batch {
                    images: self.images.slice(s![..rows, ..]),
                    labels: self.labels.slice(s![..rows]),
                }
            }
        }
    }
}
