//! The dependency graph between services, on names and edges only (it knows nothing of the
//! configuration): cycle detection for validation, startup waves and stop steps for `ephitup
//! check`, the longest chain of stop timeouts, and which services of a stopping set may be
//! asked to stop now (every service depending on them, directly or through any chain, is
//! gone). Startup itself is event-driven (each service starts as soon as its conditions hold);
//! the waves only describe that order for people.
//!
//! Every walk here is iterative and linear in nodes plus edges: a file may declare thousands
//! of services in one chain, and neither the stack nor the time may grow with its square.

use std::collections::HashMap;
use std::time::Duration;

/// Services as nodes, `depends on` as edges. Edges to names that are not nodes are dropped
/// (the loader reports them); a name given twice is one node.
#[derive(Debug, Clone)]
pub struct Graph<'a> {
    names: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
    /// `deps[i]`: the nodes `i` depends on.
    deps: Vec<Vec<usize>>,
    /// `dependents[i]`: the nodes that depend on `i`.
    dependents: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    /// From `(name, names it depends on)`, in declaration order.
    pub fn new<I, D>(nodes: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, D)>,
        D: IntoIterator<Item = &'a str>,
    {
        let nodes: Vec<(&'a str, Vec<&'a str>)> =
            nodes.into_iter().map(|(name, deps)| (name, deps.into_iter().collect())).collect();
        let mut names = Vec::with_capacity(nodes.len());
        let mut index = HashMap::with_capacity(nodes.len());
        for (name, _) in &nodes {
            if !index.contains_key(name) {
                index.insert(*name, names.len());
                names.push(*name);
            }
        }
        let mut deps = vec![Vec::new(); names.len()];
        let mut dependents = vec![Vec::new(); names.len()];
        for (name, targets) in &nodes {
            let i = index[name];
            for target in targets {
                if let Some(&j) = index.get(target) {
                    if !deps[i].contains(&j) {
                        deps[i].push(j);
                        dependents[j].push(i);
                    }
                }
            }
        }
        Self { names, index, deps, dependents }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, i: usize) -> &'a str {
        self.names[i]
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// A cycle, as the names along it with the first repeated at the end.
    pub fn find_cycle(&self) -> Option<Vec<&'a str>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut marks = vec![Mark::New; self.len()];
        for root in 0..self.len() {
            if marks[root] != Mark::New {
                continue;
            }
            // Depth-first with an explicit stack of (node, next edge to follow).
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            marks[root] = Mark::OnPath;
            while let Some((node, edge)) = path.last_mut() {
                let node = *node;
                match self.deps[node].get(*edge) {
                    Some(&next) => {
                        *edge += 1;
                        match marks[next] {
                            Mark::New => {
                                marks[next] = Mark::OnPath;
                                path.push((next, 0));
                            }
                            Mark::OnPath => {
                                let from = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                                let mut cycle: Vec<&str> = path[from..].iter().map(|(n, _)| self.names[*n]).collect();
                                cycle.push(self.names[next]);
                                return Some(cycle);
                            }
                            Mark::Done => {}
                        }
                    }
                    None => {
                        marks[node] = Mark::Done;
                        path.pop();
                    }
                }
            }
        }
        None
    }

    /// Every node, each after all the nodes it depends on (Kahn's algorithm; declaration order
    /// among equals). Nodes on a cycle, which have no such place, come last.
    pub fn topological(&self) -> Vec<usize> {
        let mut pending: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut order: Vec<usize> = (0..self.len()).filter(|i| pending[*i] == 0).collect();
        let mut next = 0;
        while next < order.len() {
            let node = order[next];
            next += 1;
            for &d in &self.dependents[node] {
                pending[d] -= 1;
                if pending[d] == 0 {
                    order.push(d);
                }
            }
        }
        if order.len() < self.len() {
            let mut placed = vec![false; self.len()];
            for &i in &order {
                placed[i] = true;
            }
            order.extend((0..self.len()).filter(|i| !placed[*i]));
        }
        order
    }

    /// Startup waves: wave 0 depends on nothing, wave n on nodes of earlier waves (the longest
    /// chain of dependencies below it). Declaration order within a wave.
    pub fn startup_waves(&self) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.len()];
        for node in self.topological() {
            depth[node] = self.deps[node].iter().map(|&d| depth[d] + 1).max().unwrap_or(0);
        }
        group(&depth)
    }

    /// Stop steps, the startup waves' mirror: step 0 is what nothing depends on; a node's step
    /// comes after the steps of everything depending on it, directly or through any chain.
    pub fn stop_steps(&self) -> Vec<Vec<usize>> {
        let mut height = vec![0usize; self.len()];
        for node in self.topological().into_iter().rev() {
            height[node] = self.dependents[node].iter().map(|&d| height[d] + 1).max().unwrap_or(0);
        }
        group(&height)
    }

    /// The longest time a whole stop may take when each node takes up to `timeout(node)` once
    /// everything depending on it has stopped: the total, and the chain that takes it, in stop
    /// order (first stopped first).
    pub fn longest_stop_chain(&self, timeout: impl Fn(usize) -> Duration) -> (Duration, Vec<usize>) {
        // done[i]: when `i` has stopped at the latest, counted from the start of the stop;
        // after[i]: the dependent whose stop it waits for longest.
        let mut done = vec![Duration::ZERO; self.len()];
        let mut after: Vec<Option<usize>> = vec![None; self.len()];
        for node in self.topological().into_iter().rev() {
            let slowest = self.dependents[node].iter().copied().max_by_key(|&d| done[d]);
            let start = slowest.map_or(Duration::ZERO, |d| done[d]);
            done[node] = start.saturating_add(timeout(node));
            after[node] = slowest;
        }
        let Some(last) = (0..self.len()).max_by_key(|&i| done[i]) else { return (Duration::ZERO, Vec::new()) };
        let mut chain = vec![last];
        while let Some(&Some(prev)) = chain.last().map(|&n| &after[n]) {
            chain.push(prev);
        }
        chain.reverse();
        (done[last], chain)
    }

    /// Of the nodes being stopped (`stopping[i]`), those not yet asked (`!asked[i]`) that may
    /// be asked now: no node depending on them, directly or through any chain (through nodes
    /// that are not stopping too: a completed one-shot has no process but still stands between
    /// a database and its clients), is stopping and still has a process (`alive`).
    pub fn ready_to_stop(&self, stopping: &[bool], asked: &[bool], alive: impl Fn(usize) -> bool) -> Vec<usize> {
        // blocked[i]: some node above `i` is stopping and still alive.
        let mut blocked = vec![false; self.len()];
        let order = self.topological();
        for &node in order.iter().rev() {
            blocked[node] = self.dependents[node].iter().any(|&d| blocked[d] || (stopping[d] && alive(d)));
        }
        order.into_iter().filter(|&i| stopping[i] && !asked[i] && !blocked[i]).collect()
    }
}

/// Nodes grouped by level, in index (declaration) order within a level.
fn group(level: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, &l) in level.iter().enumerate() {
        if groups.len() <= l {
            groups.resize_with(l + 1, Vec::new);
        }
        groups[l].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(nodes: &[(&'a str, &[&'a str])]) -> Graph<'a> {
        Graph::new(nodes.iter().map(|(n, d)| (*n, d.iter().copied())))
    }

    fn names<'a>(g: &Graph<'a>, groups: Vec<Vec<usize>>) -> Vec<Vec<&'a str>> {
        groups.into_iter().map(|group| group.into_iter().map(|i| g.name(i)).collect()).collect()
    }

    /// db ← migrate ← api, worker ← proxy (proxy depends on api).
    fn app() -> Graph<'static> {
        graph(&[
            ("proxy", &["api"]),
            ("db", &[]),
            ("migrate", &["db"]),
            ("api", &["migrate"]),
            ("worker", &["migrate"]),
        ])
    }

    #[test]
    fn finds_a_cycle_and_names_its_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        assert_eq!(g.find_cycle(), Some(vec!["a", "b", "c", "a"]));
        assert_eq!(graph(&[("a", &["a"])]).find_cycle(), Some(vec!["a", "a"]));
    }

    #[test]
    fn an_acyclic_graph_has_no_cycle() {
        assert_eq!(graph(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &[])]).find_cycle(), None);
        assert_eq!(app().find_cycle(), None);
    }

    #[test]
    fn unknown_names_are_no_edges() {
        let g = graph(&[("a", &["nowhere"]), ("b", &["a"])]);
        assert_eq!(names(&g, g.startup_waves()), [vec!["a"], vec!["b"]]);
    }

    #[test]
    fn waves_and_stop_steps_mirror_each_other() {
        let g = app();
        assert_eq!(names(&g, g.startup_waves()), [vec!["db"], vec!["migrate"], vec!["api", "worker"], vec!["proxy"]]);
        // The worker has no dependent, yet it stops before migrate and db like the API does.
        assert_eq!(names(&g, g.stop_steps()), [vec!["proxy", "worker"], vec!["api"], vec!["migrate"], vec!["db"]]);
    }

    #[test]
    fn the_longest_stop_chain_adds_timeouts_along_the_slowest_path() {
        let g = app();
        let secs = |name: &str| match name {
            "proxy" => 15,
            "api" => 10,
            "worker" => 25,
            "migrate" => 0,
            _ => 20,
        };
        let (total, chain) = g.longest_stop_chain(|i| Duration::from_secs(secs(g.name(i))));
        assert_eq!(total, Duration::from_secs(45));
        assert_eq!(chain.into_iter().map(|i| g.name(i)).collect::<Vec<_>>(), ["worker", "migrate", "db"]);
    }

    #[test]
    fn a_service_stops_only_after_every_dependent_through_any_chain() {
        let g = app();
        let i = |name| g.index_of(name).unwrap_or(usize::MAX);
        let all = vec![true; g.len()];
        let none = vec![false; g.len()];
        // Everything alive except migrate (a completed one-shot): only the tops may stop.
        let alive = |n: usize| n != i("migrate");
        let ready: Vec<&str> = g.ready_to_stop(&all, &none, alive).into_iter().map(|n| g.name(n)).collect();
        assert_eq!(ready, ["worker", "proxy"]);
        // The proxy and the API have gone; the worker still drains: db must wait for it.
        let alive = |n: usize| n == i("worker") || n == i("db");
        let ready: Vec<&str> = g.ready_to_stop(&all, &none, alive).into_iter().map(|n| g.name(n)).collect();
        assert_eq!(ready, ["api", "worker", "proxy"]);
        assert!(!ready.contains(&"db"), "{ready:?}");
        // A partial stop (db and api, as a reload changing both): db waits for the API even
        // though the one-shot between them is not stopping, and not for the proxy, which is not
        // stopping either.
        let mut stopping = vec![false; g.len()];
        stopping[i("db")] = true;
        stopping[i("api")] = true;
        let ready: Vec<&str> = g.ready_to_stop(&stopping, &none, |_| true).into_iter().map(|n| g.name(n)).collect();
        assert_eq!(ready, ["api"]);
        let ready: Vec<&str> =
            g.ready_to_stop(&stopping, &none, |n| n != i("api")).into_iter().map(|n| g.name(n)).collect();
        assert_eq!(ready, ["db", "api"]);
    }

    #[test]
    fn long_chains_cost_neither_stack_nor_quadratic_time() {
        let names: Vec<String> = (0..200_000).map(|i| format!("s{i}")).collect();
        let g = Graph::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), if i == 0 { None } else { Some(names[i - 1].as_str()) })),
        );
        assert_eq!(g.find_cycle(), None);
        assert_eq!(g.startup_waves().len(), names.len());
        assert_eq!(g.stop_steps()[0], [names.len() - 1]);
        let (_, chain) = g.longest_stop_chain(|_| Duration::from_secs(1));
        assert_eq!(chain.len(), names.len());
    }
}
