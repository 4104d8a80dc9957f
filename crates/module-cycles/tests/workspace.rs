//! No crate of this workspace has a module cycle (issue 18, item 3).

use std::path::{Path, PathBuf};

fn crates() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut crates: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the crates folder")
        .map(|entry| entry.expect("a crate").path())
        .filter(|path| path.join("src").is_dir())
        .collect();
    crates.sort();
    crates
}

fn cycles(crate_dir: &Path) -> Vec<String> {
    let name = crate_dir.file_name().expect("named").to_string_lossy();
    module_cycles::cycles_in(&crate_dir.join("src"))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|cycle| format!("{name}: {cycle}"))
        .collect()
}

#[test]
fn no_crate_has_a_module_cycle() {
    let crates = crates();
    assert!(crates.len() >= 8, "found only {crates:?}");
    let found: Vec<String> = crates.iter().flat_map(|dir| cycles(dir)).collect();
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}
