//! The checker on small planted crates: it finds each kind of cycle, names it, and does not
//! call a parent's declaration of its children, or their re-export, a cycle.

use crate::{cycles_in_sources, Cycle};

fn cycles(files: &[(&str, &str)]) -> Vec<Cycle> {
    let files = files.iter().map(|(p, t)| (p.to_string(), t.to_string()));
    cycles_in_sources(files).expect("parses")
}

/// The one cycle among `files`; panics unless there is exactly one.
fn only_cycle(files: &[(&str, &str)]) -> Cycle {
    let mut found = cycles(files);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn circles(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    cycles(files).into_iter().map(|c| c.circle).collect()
}

#[test]
fn two_files_that_import_each_other_are_a_cycle_named_with_the_lines_that_make_it() {
    let cycle = only_cycle(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "use crate::b::B; pub struct A;"),
        ("b.rs", "pub struct B; fn f() -> crate::a::A { todo!() }"),
    ]);
    assert_eq!(cycle.circle, ["crate::a", "crate::b"]);
    assert_eq!(
        cycle.to_string(),
        "crate::a -> crate::b -> crate::a (a.rs names crate::b::B; b.rs names crate::a::A)"
    );
}

#[test]
fn names_imported_through_the_root_are_resolved_to_the_file_that_defines_them() {
    let files = [
        (
            "lib.rs",
            "mod a; mod b; mod c; pub use a::A; pub use b::B; pub use c::C;",
        ),
        ("a.rs", "use crate::B; pub struct A;"),
        ("b.rs", "pub struct B; pub fn f() { let _ = crate::C; }"),
        (
            "c.rs",
            "pub struct C; pub fn g() { assert!(super::a::A == super::a::A); }",
        ),
    ];
    assert_eq!(circles(&files), [["crate::a", "crate::b", "crate::c"]]);
}

#[test]
fn a_circle_of_three_is_one_knot_with_every_member() {
    let cycle = only_cycle(&[
        ("lib.rs", "mod a; mod b; mod c; mod d;"),
        ("a.rs", "use crate::b::B; use crate::d::D; pub struct A;"),
        ("b.rs", "use crate::c::C; pub struct B;"),
        ("c.rs", "use crate::a::A; pub struct C;"),
        ("d.rs", "use crate::a::A; pub struct D;"),
    ]);
    assert_eq!(cycle.circle, ["crate::a", "crate::d"]);
    assert_eq!(cycle.knot, ["crate::a", "crate::b", "crate::c", "crate::d"]);
}

#[test]
fn a_parent_that_uses_its_child_which_uses_it_back_is_a_cycle() {
    let files = [
        ("lib.rs", "mod net;"),
        (
            "net/mod.rs",
            "mod pass; use pass::Task; pub struct Network(Task);",
        ),
        (
            "net/pass.rs",
            "use super::Network; pub struct Task; fn f(_: &Network) {}",
        ),
    ];
    assert_eq!(circles(&files), [["crate::net", "crate::net::pass"]]);
}

#[test]
fn imported_modules_and_nested_supers_are_followed() {
    let files = [
        ("lib.rs", "mod x; mod y;"),
        (
            "x/mod.rs",
            "pub mod deep; pub struct X; fn h() { deep::f(); }",
        ),
        ("x/deep.rs", "pub fn f() { super::super::y::g(); }"),
        ("y.rs", "use crate::x; pub fn g() { let _ = x::X; }"),
    ];
    assert_eq!(
        circles(&files),
        [["crate::x", "crate::x::deep", "crate::y"]]
    );
}

#[test]
fn declaring_and_re_exporting_children_that_use_their_parent_is_no_cycle() {
    let files = [
        (
            "lib.rs",
            "mod engine; mod model; pub use model::Model; pub use engine::*;",
        ),
        ("engine.rs", "pub struct Engine;"),
        (
            "model/mod.rs",
            "mod step; pub use step::Model; pub fn formula() {}",
        ),
        (
            "model/step.rs",
            "use super::formula; use crate::Engine; pub struct Model;",
        ),
    ];
    assert_eq!(circles(&files), Vec::<Vec<String>>::new());
}

#[test]
fn inline_test_modules_belong_to_their_file_and_other_crates_are_not_followed() {
    let files = [
        ("lib.rs", "mod a; mod b; pub use b::B;"),
        (
            "a.rs",
            "use std::fmt; use ndarray::Array2; pub struct A; #[cfg(test)] mod tests { use super::*; use crate::B; }",
        ),
        ("b.rs", "pub struct B; fn f() -> Vec<u8> { Vec::new() }"),
    ];
    assert_eq!(circles(&files), Vec::<Vec<String>>::new());
}

#[test]
fn a_file_outside_the_module_layout_is_an_error() {
    let error = cycles_in_sources([("notes.txt".to_owned(), String::new())]).unwrap_err();
    assert!(error.to_string().contains("notes.txt"), "{error}");
    let error = cycles_in_sources([("lib.rs".to_owned(), "fn (".to_owned())]).unwrap_err();
    assert!(error.to_string().starts_with("lib.rs: not Rust"), "{error}");
}
