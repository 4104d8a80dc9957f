//! What each module of a crate defines, which names it imports, and every path it writes.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module's path below the crate root: `[]` is the root, `["a", "b"]` is `crate::a::b`.
pub type ModulePath = Vec<String>;

/// The names one module (a file or an inline `mod`) brings into scope.
#[derive(Debug, Default)]
pub struct Module {
    /// Items it defines: functions, types, traits, constants, statics, modules.
    pub defined: BTreeSet<String>,
    /// `use` bindings: the bound name and the path as written.
    pub bindings: BTreeMap<String, Vec<String>>,
    /// `use path::*`: the paths as written.
    pub globs: Vec<Vec<String>>,
}

/// A path written in a module, as written.
#[derive(Debug)]
pub struct Reference {
    /// The file it is written in, and the module (the file's or an inline one) around it.
    pub file: ModulePath,
    pub scope: ModulePath,
    pub path: Vec<String>,
    /// Part of a `pub use` (of any visibility but private): a re-export.
    pub reexport: bool,
}

/// Everything collected from a crate's files.
#[derive(Debug, Default)]
pub struct Facts {
    /// Every module, file or inline.
    pub modules: BTreeMap<ModulePath, Module>,
    /// The file modules and their file's path relative to `src`.
    pub files: BTreeMap<ModulePath, String>,
    pub references: Vec<Reference>,
}

impl Facts {
    /// Records the file at `path` (module `module`), parsed into `tree`.
    pub fn add_file(&mut self, module: ModulePath, path: String, tree: &syn::File) {
        self.modules.entry(module.clone()).or_default();
        self.files.insert(module.clone(), path);
        let mut collector = Collector {
            facts: self,
            file: module.clone(),
            scope: module,
        };
        collector.visit_file(tree);
    }
}

struct Collector<'f> {
    facts: &'f mut Facts,
    file: ModulePath,
    scope: ModulePath,
}

impl Collector<'_> {
    fn module(&mut self) -> &mut Module {
        self.facts.modules.entry(self.scope.clone()).or_default()
    }

    fn reference(&mut self, path: Vec<String>, reexport: bool) {
        self.facts.references.push(Reference {
            file: self.file.clone(),
            scope: self.scope.clone(),
            path,
            reexport,
        });
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let name = match item {
            syn::Item::Const(i) => Some(&i.ident),
            syn::Item::Enum(i) => Some(&i.ident),
            syn::Item::Fn(i) => Some(&i.sig.ident),
            syn::Item::Mod(i) => Some(&i.ident),
            syn::Item::Static(i) => Some(&i.ident),
            syn::Item::Struct(i) => Some(&i.ident),
            syn::Item::Trait(i) => Some(&i.ident),
            syn::Item::TraitAlias(i) => Some(&i.ident),
            syn::Item::Type(i) => Some(&i.ident),
            syn::Item::Union(i) => Some(&i.ident),
            _ => None,
        };
        if let Some(name) = name {
            let name = name.to_string();
            self.module().defined.insert(name);
        }
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.scope.push(item.ident.to_string());
        self.module();
        if let Some((_, items)) = &item.content {
            for item in items {
                self.visit_item(item);
            }
        }
        self.scope.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_some() {
            return;
        }
        let reexport = !matches!(item.vis, syn::Visibility::Inherited);
        let mut leaves = Vec::new();
        flatten(&item.tree, Vec::new(), &mut leaves);
        for (path, bound) in leaves {
            match bound {
                Some(name) if name != "_" => {
                    self.module().bindings.insert(name, path.clone());
                }
                Some(_) => {}
                None => self.module().globs.push(path.clone()),
            }
            self.reference(path, reexport);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.reference(segments, false);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let mut paths = Vec::new();
        paths_in_tokens(mac.tokens.clone(), &mut paths);
        for path in paths {
            self.reference(path, false);
        }
    }
}

/// The leaves of a use tree: the full path of each, and the name it binds (`None`: a glob).
fn flatten(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    leaves: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let with = |name: &syn::Ident| {
        let mut path = prefix.clone();
        if name != "self" {
            path.push(name.to_string());
        }
        path
    };
    match tree {
        syn::UseTree::Path(p) => flatten(&p.tree, with(&p.ident), leaves),
        syn::UseTree::Name(n) => {
            let path = with(&n.ident);
            let bound = path.last().cloned();
            leaves.push((path, bound));
        }
        syn::UseTree::Rename(r) => leaves.push((with(&r.ident), Some(r.rename.to_string()))),
        syn::UseTree::Glob(_) => leaves.push((prefix, None)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten(tree, prefix.clone(), leaves);
            }
        }
    }
}

/// Paths of two or more segments (`a::b`, `crate::c::D`) in a macro's tokens, which syn does
/// not parse as code.
fn paths_in_tokens(tokens: TokenStream, paths: &mut Vec<Vec<String>>) {
    fn finish(current: &mut Vec<String>, paths: &mut Vec<Vec<String>>) {
        let path = std::mem::take(current);
        if path.len() > 1 {
            paths.push(path);
        }
    }
    let mut current: Vec<String> = Vec::new();
    let mut colons = 0;
    for token in tokens {
        match token {
            TokenTree::Ident(ident) if current.is_empty() || colons == 2 => {
                current.push(ident.to_string());
                colons = 0;
            }
            TokenTree::Punct(p) if p.as_char() == ':' && !current.is_empty() && colons < 2 => {
                colons += 1;
            }
            other => {
                finish(&mut current, paths);
                colons = 0;
                match other {
                    TokenTree::Ident(ident) => current.push(ident.to_string()),
                    TokenTree::Group(group) => paths_in_tokens(group.stream(), paths),
                    _ => {}
                }
            }
        }
    }
    finish(&mut current, paths);
}
