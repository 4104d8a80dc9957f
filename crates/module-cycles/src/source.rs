//! The files of a crate's `src/` and the module each one is, by Rust's file layout.

use std::path::Path;

use crate::error::Error;

/// Every `.rs` file below `src`, as `(path relative to src with '/', content)`, sorted.
pub fn read_dir(src: &Path) -> Result<Vec<(String, String)>, Error> {
    let mut files = Vec::new();
    collect(src, src, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(src: &Path, dir: &Path, files: &mut Vec<(String, String)>) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            collect(src, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let relative = path.strip_prefix(src).expect("below src");
            let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
            files.push((parts.join("/"), text));
        }
    }
    Ok(())
}

/// The module path of the file at `path` (relative to `src`): `lib.rs` and `main.rs` are the
/// root `[]`, `a.rs` and `a/mod.rs` are `["a"]`, `a/b.rs` is `["a", "b"]`.
pub fn module_of(path: &str) -> Result<Vec<String>, Error> {
    let stem = path.strip_suffix(".rs").ok_or_else(|| Error::NotAModule {
        path: path.to_owned(),
    })?;
    let mut module: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if module.last().is_some_and(|last| last == "mod")
        || matches!(module.as_slice(), [root] if root == "lib" || root == "main")
    {
        module.pop();
    }
    Ok(module)
}
