//! Embeds libtorch's `lib` folder as rpath (so the binary runs without LD_LIBRARY_PATH) and
//! records the git commit and rustc version for `run.json`.
use std::process::Command;

fn output_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
}

fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    println!(
        "cargo:rustc-env=COMPARE_RUSTC_VERSION={}",
        output_of(&rustc, &["--version"])
    );
    println!(
        "cargo:rustc-env=COMPARE_GIT_COMMIT={}",
        output_of("git", &["describe", "--always", "--dirty", "--abbrev=40"])
    );
    for watched in ["../../.git/HEAD", "../../.git/index"] {
        println!("cargo:rerun-if-changed={watched}");
    }
}
