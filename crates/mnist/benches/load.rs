//! How long loading the real MNIST files takes: read, decompress, SHA-256, parse, convert.
//! Uses `testkit::real_mnist_dir`: `$MNIST_DIR`, else the shared copy beside the clone.

use criterion::{criterion_group, criterion_main, Criterion};
use mnist::{load, DataSource, DatasetName};

fn bench_load(c: &mut Criterion) {
    let source = DataSource {
        download: false,
        ..DataSource::new(DatasetName::Mnist, testkit::real_mnist_dir())
    };
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("four gz files, verified", |b| {
        b.iter(|| load(&source).expect("MNIST loads"))
    });
    let unverified = DataSource {
        verify_checksums: false,
        ..source.clone()
    };
    group.bench_function("four gz files, unverified", |b| {
        b.iter(|| load(&unverified).expect("MNIST loads"))
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
