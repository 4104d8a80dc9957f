//! Module-level import cycles in a Rust crate: which files of `src/` use each other in a
//! circle. A file is a module (`lib.rs`/`main.rs` the root, `a.rs` or `a/mod.rs` module `a`,
//! `a/b.rs` module `a::b`); inline modules such as `mod tests { .. }` belong to their file.
//! An edge runs from a file to every file whose items it names through `crate::`, `super::`,
//! `self::`, a child module or an imported name, in `use` items, in code and in macro
//! arguments, resolved through re-exports to the file that defines the item. Two things are
//! not edges: `mod child;` (a parent declaring its child) and a parent's `pub use` of its own
//! descendants' items (the parent's public face, not a use of them).

mod collect;
mod cycles;
mod error;
mod resolve;
mod source;

pub use cycles::Cycle;
pub use error::Error;

use std::path::Path;

/// The cycles among the modules of the crate whose source folder is `src`, each once.
pub fn cycles_in(src: &Path) -> Result<Vec<Cycle>, Error> {
    cycles_in_sources(source::read_dir(src)?)
}

/// The cycles among modules given as `(path relative to src, content)`: `lib.rs`, `a.rs`, …
pub fn cycles_in_sources(
    files: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Cycle>, Error> {
    let mut facts = collect::Facts::default();
    for (path, text) in files {
        let module = source::module_of(&path)?;
        let tree = syn::parse_file(&text).map_err(|e| Error::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        facts.add_file(module, path, &tree);
    }
    Ok(cycles::find(&resolve::edges(&facts)))
}

#[cfg(test)]
mod tests;
