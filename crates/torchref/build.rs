//! Embeds libtorch's `lib` folder as rpath, so the binaries run without LD_LIBRARY_PATH, and
//! records the linked libtorch's version (for `run.json`), which libtorch has no call for.
use std::path::Path;

/// The libtorch version tch 0.26 is generated for.
const EXPECTED_LIBTORCH: &str = "2.13.0";

fn main() {
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:rustc-env=TORCHREF_LIBTORCH_VERSION=unknown");
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    let root = Path::new(&lib).parent().unwrap_or(Path::new(&lib));
    let version = libtorch_version(root).unwrap_or_else(|| "unknown".to_owned());
    // torch-sys checks the version only where libtorch has a build-version file; a wheel
    // linked by hand has none, and a mismatch then fails far later, in C++ or at link time.
    if version != "unknown" && version.split('+').next() != Some(EXPECTED_LIBTORCH) {
        panic!(
            "libtorch {version} found in {}, but tch 0.26 needs {EXPECTED_LIBTORCH}: run scripts/setup",
            root.display()
        );
    }
    println!("cargo:rustc-env=TORCHREF_LIBTORCH_VERSION={version}");
}

/// The version as the libtorch zip (`build-version`) or the PyTorch wheel (`version.py`,
/// `__version__ = '2.13.0+cu130'`) records it.
fn libtorch_version(root: &Path) -> Option<String> {
    // Watch only a file that exists: cargo reruns a build script on every build for a
    // missing one.
    let zip = root.join("build-version");
    if let Ok(text) = std::fs::read_to_string(&zip) {
        println!("cargo:rerun-if-changed={}", zip.display());
        return Some(text.trim().to_owned());
    }
    let wheel = root.join("version.py");
    let text = std::fs::read_to_string(&wheel).ok()?;
    println!("cargo:rerun-if-changed={}", wheel.display());
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    let value = line.split_once('=')?.1.trim();
    Some(value.trim_matches(['\'', '"']).to_owned())
}
