//! The integration tests and benchmarks link libtorch through the `torchref` dev-dependency (the reference
//! the candidate is checked against): embed its `lib` folder as their rpath, as torchref's
//! and compare's build scripts do for their own binaries. A dev-dependency hands a build
//! script no `DEP_TCH_LIBTORCH_LIB`, so the folder comes from `LIBTORCH`, which
//! `.cargo/config.toml` sets.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Some(libtorch) = std::env::var_os("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{}", lib.display());
        println!("cargo:rustc-link-arg-benches=-Wl,-rpath,{}", lib.display());
    }
}
