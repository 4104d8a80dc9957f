//! Embeds libtorch's `lib` folder as rpath (so the binary runs without LD_LIBRARY_PATH) and
//! records the git commit and rustc version for `run.json`.
use std::process::Command;

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        // `git describe --dirty` would refresh .git/index and write it, which this script
        // watches: in a fresh clone (every file newer than the index's stat data) that reran
        // this script and recompiled compare once more in the next cargo command. `git status`
        // leaves the index alone without the optional lock.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
}

/// The commit checked out, with `-dirty` when tracked files differ from it.
fn git_commit() -> Option<String> {
    let commit = output_of("git", &["rev-parse", "HEAD"])?;
    let changes = output_of("git", &["status", "--porcelain", "--untracked-files=no"])?;
    Some(if changes.is_empty() {
        commit
    } else {
        format!("{commit}-dirty")
    })
}

fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    println!(
        "cargo:rustc-env=COMPARE_RUSTC_VERSION={}",
        output_of(&rustc, &["--version"]).unwrap_or_else(|| "unknown".to_owned())
    );
    println!(
        "cargo:rustc-env=COMPARE_GIT_COMMIT={}",
        git_commit().unwrap_or_else(|| "unknown".to_owned())
    );
    for watched in ["../../.git/HEAD", "../../.git/index"] {
        println!("cargo:rerun-if-changed={watched}");
    }
}
