//! From written paths to edges between files: each path is resolved to the file that defines
//! what it names, following `use` bindings and re-exports.

use std::collections::BTreeMap;

use crate::collect::{Facts, ModulePath};

/// Re-exports are followed at most this deep (a loop of bindings is a compile error anyway).
const MAX_DEPTH: usize = 32;

/// Module name → (module it uses → the first place that says so).
pub type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The edges between the files of `facts`, every file a node.
pub fn edges(facts: &Facts) -> Graph {
    let mut graph: Graph = facts
        .files
        .keys()
        .map(|m| (name(m), BTreeMap::new()))
        .collect();
    for reference in &facts.references {
        let Some(target) = absolute(facts, &reference.scope, &reference.path, 0)
            .and_then(|path| locate(facts, &path, 0))
            .map(|module| file_of(facts, &module))
        else {
            continue;
        };
        let from = &reference.file;
        let reexports_a_descendant = reference.reexport && target.starts_with(from);
        if target == *from || reexports_a_descendant {
            continue;
        }
        let why = format!("{} names {}", facts.files[from], reference.path.join("::"));
        let uses = graph.entry(name(from)).or_default();
        uses.entry(name(&target)).or_insert(why);
    }
    graph
}

/// `crate`, `crate::a::b`.
pub fn name(module: &[String]) -> String {
    std::iter::once("crate")
        .chain(module.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

/// `path` as written in module `scope`, made absolute (without the leading `crate`); `None`
/// when it leads out of the crate (another crate, the prelude, a local variable or type).
fn absolute(facts: &Facts, scope: &[String], path: &[String], depth: usize) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => scope.to_vec(),
        "super" => scope.split_last()?.1.to_vec(),
        _ => {
            let module = facts.modules.get(scope)?;
            let mut child = scope.to_vec();
            child.push(first.clone());
            if facts.modules.contains_key(&child) || module.defined.contains(first) {
                return Some([scope, path].concat());
            }
            let target = module.bindings.get(first).filter(|_| depth < MAX_DEPTH)?;
            let target = absolute(facts, scope, target, depth + 1)?;
            return Some([target.as_slice(), rest].concat());
        }
    };
    let mut rest = rest;
    while let Some(("super", after)) = rest.split_first().map(|(s, a)| (s.as_str(), a)) {
        base.pop()?;
        rest = after;
    }
    Some([base.as_slice(), rest].concat())
}

/// Where the search for a name ended.
enum Found {
    /// The module that defines it (or the module itself, for a path that names a module).
    Defined(ModulePath),
    /// The last module on the path, which neither defines nor imports the next name (one
    /// made by a macro or a derive): the item is taken to be there.
    Unknown(ModulePath),
}

/// The module (file or inline) that holds the item at absolute `path`.
fn locate(facts: &Facts, path: &[String], depth: usize) -> Option<ModulePath> {
    match find(facts, path, depth)? {
        Found::Defined(module) | Found::Unknown(module) => Some(module),
    }
}

fn find(facts: &Facts, path: &[String], depth: usize) -> Option<Found> {
    let mut module: ModulePath = Vec::new();
    for (at, segment) in path.iter().enumerate() {
        let mut child = module.clone();
        child.push(segment.clone());
        if facts.modules.contains_key(&child) {
            module = child;
            continue;
        }
        let here = facts.modules.get(&module)?;
        if here.defined.contains(segment) {
            return Some(Found::Defined(module));
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        if let Some(target) = here.bindings.get(segment) {
            let target = absolute(facts, &module, target, depth + 1)?;
            return find(
                facts,
                &[target.as_slice(), &path[at + 1..]].concat(),
                depth + 1,
            );
        }
        for glob in &here.globs {
            let Some(glob) = absolute(facts, &module, glob, depth + 1) else {
                continue;
            };
            let through = [glob.as_slice(), &path[at..]].concat();
            if let Some(found @ Found::Defined(_)) = find(facts, &through, depth + 1) {
                return Some(found);
            }
        }
        return Some(Found::Unknown(module));
    }
    Some(Found::Defined(module))
}

/// The file module that holds `module` (itself, or the file of an inline module).
fn file_of(facts: &Facts, module: &[String]) -> ModulePath {
    (0..=module.len())
        .rev()
        .map(|len| module[..len].to_vec())
        .find(|prefix| facts.files.contains_key(prefix))
        .unwrap_or_default()
}
