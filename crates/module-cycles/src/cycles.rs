//! Cycles in a graph of modules: its strongly connected components, each shown as one
//! shortest circle through it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use crate::resolve::Graph;

/// Modules that use each other in a circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// One circle, first module first; the last uses the first.
    pub circle: Vec<String>,
    /// For each step of the circle, the place that makes it: `src/a.rs names crate::b::B`.
    pub because: Vec<String>,
    /// Every module tangled with these (the strongly connected component), sorted.
    pub knot: Vec<String>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.circle.first().map_or("", String::as_str);
        write!(
            f,
            "{} -> {first} ({})",
            self.circle.join(" -> "),
            self.because.join("; ")
        )?;
        if self.knot.len() > self.circle.len() {
            write!(f, "; tangled with them: {}", self.knot.join(", "))?;
        }
        Ok(())
    }
}

/// Every strongly connected component of more than one module, as a [`Cycle`].
pub fn find(graph: &Graph) -> Vec<Cycle> {
    components(graph)
        .into_iter()
        .filter(|knot| knot.len() > 1)
        .map(|knot| {
            let circle = shortest_circle(graph, &knot);
            let because = circle
                .iter()
                .zip(circle.iter().cycle().skip(1))
                .map(|(from, to)| graph[from][to].clone())
                .collect();
            Cycle {
                circle,
                because,
                knot: knot.into_iter().collect(),
            }
        })
        .collect()
}

/// Tarjan's strongly connected components, each sorted.
fn components(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, node: &'g str) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        for next in s.graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            let next = next.as_str();
            if !s.index.contains_key(next) {
                visit(s, next);
                s.low.insert(node, s.low[node].min(s.low[next]));
            } else if s.on_stack.contains(next) {
                s.low.insert(node, s.low[node].min(s.index[next]));
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = BTreeSet::new();
            while let Some(member) = s.stack.pop() {
                s.on_stack.remove(member);
                component.insert(member.to_owned());
                if member == node {
                    break;
                }
            }
            s.found.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found.sort();
    state.found
}

/// The shortest circle through the first module of `knot`, staying inside it.
fn shortest_circle(graph: &Graph, knot: &BTreeSet<String>) -> Vec<String> {
    let start = knot.first().expect("a knot has members");
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start.as_str()]);
    while let Some(node) = queue.pop_front() {
        for next in graph[node].keys().filter(|n| knot.contains(*n)) {
            if next == start {
                let mut circle = vec![node.to_owned()];
                let mut at = node;
                while at != start {
                    at = came_from[at];
                    circle.push(at.to_owned());
                }
                circle.reverse();
                return circle;
            }
            if !came_from.contains_key(next.as_str()) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    unreachable!("every member of a strongly connected component lies on a circle")
}
