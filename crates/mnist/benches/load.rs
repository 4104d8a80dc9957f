//! How long loading the real MNIST files takes: read, decompress, SHA-256, parse, convert.
//! Uses `$MNIST_DIR`, else the shared copy beside the clone.

use criterion::{criterion_group, criterion_main, Criterion};
use mnist::{load, DataSource};

fn bench_load(c: &mut Criterion) {
    let source = DataSource {
        dir: Some(mnist::testing::real_mnist_dir()),
        download: false,
        ..DataSource::default()
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
