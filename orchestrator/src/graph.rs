//! The dependency graph between services: cycle detection for validation, startup waves for
//! `ephitup check`, and the order in which a shutdown stops services (dependents first).
//! Startup itself is event-driven (each service starts as soon as its conditions hold); the
//! waves only describe that order for people.

use std::collections::HashMap;

use crate::config::ServiceSpec;

/// A cycle in `deps` (name → names it depends on), as the list of names along it, first name
/// repeated at the end. Only names present as keys are followed.
pub fn find_cycle<'a>(names: &[&'a str], deps: &HashMap<&'a str, Vec<&'a str>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        deps: &HashMap<&'a str, Vec<&'a str>>,
        marks: &mut HashMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match marks.get(name).copied() {
            Some(Mark::Done) | None => return None,
            Some(Mark::OnPath) => {
                let from = path.iter().position(|n| *n == name).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..].iter().map(|s| s.to_string()).collect();
                cycle.push(name.to_string());
                return Some(cycle);
            }
            Some(Mark::New) => {}
        }
        marks.insert(name, Mark::OnPath);
        path.push(name);
        for dep in deps.get(name).into_iter().flatten() {
            if let Some(cycle) = visit(dep, deps, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(name, Mark::Done);
        None
    }
    let mut marks: HashMap<&str, Mark> = names.iter().map(|n| (*n, Mark::New)).collect();
    names.iter().find_map(|name| visit(name, deps, &mut marks, &mut Vec::new()))
}

/// Services grouped by depth: wave 0 depends on nothing, wave n on services of earlier waves.
/// Within a wave, declaration order. The graph must be acyclic (the config loader ensures it).
pub fn startup_waves(services: &[ServiceSpec]) -> Vec<Vec<&ServiceSpec>> {
    let index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let mut depth: Vec<Option<usize>> = vec![None; services.len()];
    fn depth_of(
        i: usize,
        services: &[ServiceSpec],
        index: &HashMap<&str, usize>,
        depth: &mut [Option<usize>],
    ) -> usize {
        if let Some(d) = depth[i] {
            return d;
        }
        let d = services[i]
            .depends_on
            .iter()
            .filter_map(|dep| index.get(dep.service.as_str()).copied())
            .map(|j| depth_of(j, services, index, depth) + 1)
            .max()
            .unwrap_or(0);
        depth[i] = Some(d);
        d
    }
    let mut waves: Vec<Vec<&ServiceSpec>> = Vec::new();
    for i in 0..services.len() {
        let d = depth_of(i, services, &index, &mut depth);
        if waves.len() <= d {
            waves.resize_with(d + 1, Vec::new);
        }
        waves[d].push(&services[i]);
    }
    waves
}

/// Names of the services that depend on `name`, directly.
pub fn dependents_of<'a>(services: &'a [ServiceSpec], name: &str) -> Vec<&'a str> {
    services.iter().filter(|s| s.depends_on.iter().any(|d| d.service == name)).map(|s| s.name.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cycle_and_names_its_path() {
        let names = ["a", "b", "c", "d"];
        let deps: HashMap<&str, Vec<&str>> =
            [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])].into_iter().collect();
        assert_eq!(find_cycle(&names, &deps), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    }

    #[test]
    fn an_acyclic_graph_has_no_cycle() {
        let names = ["a", "b", "c"];
        let deps: HashMap<&str, Vec<&str>> =
            [("a", vec!["b", "c"]), ("b", vec!["c"]), ("c", vec![])].into_iter().collect();
        assert_eq!(find_cycle(&names, &deps), None);
    }
}
