//! Embeds libtorch's `lib` folder as rpath in the benchmarks only (the sweep times libtorch's
//! step through `torchref`, a dev-dependency), so that `cargo bench` runs them without
//! `LD_LIBRARY_PATH`. The library itself links no libtorch.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Some(root) = std::env::var_os("LIBTORCH") {
        let lib = Path::new(&root).join("lib");
        println!("cargo:rustc-link-arg-benches=-Wl,-rpath,{}", lib.display());
    }
}
