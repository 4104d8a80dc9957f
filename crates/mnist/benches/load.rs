//! How long loading the real MNIST files takes: read, decompress, SHA-256, parse, convert.
//! Uses `testkit::real_mnist_dir`: `$MNIST_DIR`, else the shared copy beside the clone.
//! Prints the fastest and the median of ten loads, with and without the checksums.
//! Run: `cargo bench -p mnist --bench load`.

use std::time::Instant;

use mnist::{load, DataSource, DatasetName};

const LOADS: usize = 10;

fn main() {
    let verified = DataSource {
        download: false,
        ..DataSource::new(DatasetName::Mnist, testkit::real_mnist_dir())
    };
    let unverified = DataSource {
        verify_checksums: false,
        ..verified.clone()
    };
    for (name, source) in [
        ("four gz files, verified", &verified),
        ("four gz files, unverified", &unverified),
    ] {
        let mut seconds: Vec<f64> = (0..LOADS)
            .map(|_| {
                let started = Instant::now();
                load(source).expect("MNIST loads");
                started.elapsed().as_secs_f64()
            })
            .collect();
        seconds.sort_by(f64::total_cmp);
        println!(
            "load, {name}: fastest {:.1} ms, median {:.1} ms of {LOADS}",
            seconds[0] * 1e3,
            seconds[LOADS / 2] * 1e3
        );
    }
}
