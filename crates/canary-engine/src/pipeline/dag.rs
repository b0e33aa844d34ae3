//! Order and pictures of the stage graph.

use std::collections::{BTreeMap, BTreeSet};

use super::{Pipeline, Stage};

/// Kahn's algorithm with ready stages taken in name order, so the order (and every listing
/// derived from it) is the same on every run. Err holds one cycle, first stage repeated last.
pub fn topological_order(stages: &BTreeMap<String, Stage>) -> Result<Vec<String>, Vec<String>> {
    // Who waits for whom, built once: O(stages + edges).
    let mut pending: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, s) in stages {
        let mut deps = 0;
        for i in s.inputs.iter().filter(|i| stages.contains_key(*i)) {
            deps += 1;
            dependents
                .entry(i.as_str())
                .or_default()
                .push(name.as_str());
        }
        pending.insert(name, deps);
    }
    let mut ready: BTreeSet<&str> = pending
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut order = Vec::with_capacity(stages.len());
    while let Some(next) = ready.pop_first() {
        order.push(next.to_string());
        pending.remove(next);
        for d in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            let left = pending
                .get_mut(d)
                .expect("pending while it has inputs left");
            *left -= 1;
            if *left == 0 {
                ready.insert(d);
            }
        }
    }
    if pending.is_empty() {
        Ok(order)
    } else {
        Err(find_cycle(stages, pending.keys().copied().collect()))
    }
}

fn find_cycle(stages: &BTreeMap<String, Stage>, left: BTreeSet<&str>) -> Vec<String> {
    // Every stage left has an input left; walking inputs must revisit a stage.
    let mut path: Vec<&str> = vec![*left.iter().next().expect("a cycle has stages")];
    loop {
        let cur = *path.last().expect("non-empty");
        let next = stages[cur]
            .inputs
            .iter()
            .map(String::as_str)
            .find(|i| left.contains(i))
            .expect("a stage in a cycle has an input in it");
        if let Some(pos) = path.iter().position(|p| *p == next) {
            // The walk follows inputs (against the data flow); reverse it to read as data flows.
            let mut cycle: Vec<String> = path[pos..].iter().rev().map(|s| s.to_string()).collect();
            cycle.push(cycle[0].clone());
            return cycle;
        }
        path.push(next);
    }
}

/// How `canary dag` draws the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DagFormat {
    Text,
    Dot,
    Mermaid,
}

/// Render the graph of sources and stages.
pub fn render(p: &Pipeline, format: DagFormat) -> String {
    let mut s = String::new();
    match format {
        DagFormat::Text => {
            for name in &p.order {
                let st = &p.stages[name];
                s.push_str(&format!("{name} ({})", st.kind));
                if !st.inputs.is_empty() {
                    s.push_str(&format!(" ← {}", st.inputs.join(", ")));
                }
                s.push('\n');
            }
        }
        DagFormat::Dot => {
            s.push_str(&format!("digraph \"{}\" {{\n  rankdir=LR;\n", p.name));
            for src in p.sources.keys() {
                s.push_str(&format!("  \"{src}\" [shape=note];\n"));
            }
            for name in &p.order {
                s.push_str(&format!(
                    "  \"{name}\" [shape=box, label=\"{name}\\n({})\"];\n",
                    p.stages[name].kind
                ));
            }
            for name in &p.order {
                for i in &p.stages[name].inputs {
                    s.push_str(&format!("  \"{i}\" -> \"{name}\";\n"));
                }
            }
            s.push_str("}\n");
        }
        DagFormat::Mermaid => {
            s.push_str("flowchart LR\n");
            for src in p.sources.keys() {
                s.push_str(&format!("  {src}[/\"{src}\"/]\n"));
            }
            for name in &p.order {
                s.push_str(&format!("  {name}[\"{name} ({})\"]\n", p.stages[name].kind));
            }
            for name in &p.order {
                for i in &p.stages[name].inputs {
                    s.push_str(&format!("  {i} --> {name}\n"));
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, inputs: &[&str]) -> (String, Stage) {
        (
            name.to_string(),
            Stage {
                name: name.into(),
                kind: "sql".into(),
                inputs: inputs.iter().map(|s| s.to_string()).collect(),
                params: Default::default(),
                sql: None,
                sql_file: None,
                sql_params: Default::default(),
                description: None,
                tables: vec![],
                files: vec![],
                sweep: None,
                script: None,
                sql_origin: None,
            },
        )
    }

    #[test]
    fn order_is_sorted_within_levels() {
        let stages: BTreeMap<_, _> = [
            stage("c", &["a"]),
            stage("b", &["src"]),
            stage("a", &[]),
            stage("d", &["b", "c"]),
        ]
        .into();
        assert_eq!(topological_order(&stages).unwrap(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn cycle_is_named_in_data_flow_order() {
        let stages: BTreeMap<_, _> = [
            stage("a", &["c"]),
            stage("b", &["a"]),
            stage("c", &["b"]),
            stage("x", &[]),
        ]
        .into();
        let cycle = topological_order(&stages).unwrap_err();
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
        // each step feeds the next
        for w in cycle.windows(2) {
            assert!(stages[&w[1]].inputs.contains(&w[0]), "{cycle:?}");
        }
    }
}
