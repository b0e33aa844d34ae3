//! The pipeline as a layered graph, left to right; each node links to its entry in the report.

use super::core::*;
use super::PALETTE;

/// A pipeline stage. `name` must be unique (later duplicates are ignored);
/// `group` (e.g. "source", "clean", "statistics") picks colour and border dash
/// in order of first appearance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DagNode {
    pub name: String,
    pub kind: String,
    pub group: String,
}

/// Pipeline DAG. Edges are (from, to) by node name; unknown names and
/// self-loops are ignored; cycles do not hang (layers are capped).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dag {
    pub title: String,
    pub nodes: Vec<DagNode>,
    pub edges: Vec<(String, String)>,
}

/// Layered left-to-right drawing; each node links to `#stage-NAME`.
pub fn dag(d: &Dag) -> String {
    let Some(g) = Layered::new(d) else {
        return no_data_svg(&d.title, 480.0, 200.0);
    };
    let l = Layout::new(d, &g);
    let pfx = idp("dag", &d.title);
    let mut o = String::new();
    svg_open(
        &mut o,
        l.w,
        l.h,
        &d.title,
        &format!(
            "Pipeline graph with {} stages and {} dependencies, left to right.",
            g.nodes.len(),
            g.edges.len()
        ),
    );
    w!(
        o,
        r##"<defs><marker id="{pfx}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555555"/></marker></defs>"##
    );
    title_text(&mut o, &d.title, l.w / 2.0, 20.0, l.w - 20.0);
    l.edges(&mut o, &g, &pfx);
    l.nodes(&mut o, &g);
    let (lg, _) = legend(
        &l.items,
        l.margin,
        l.top + l.inner_h + 16.0,
        l.w - 2.0 * l.margin,
    );
    o.push_str(&lg);
    o.push_str("</svg>");
    o
}

/// The graph as drawn: nodes deduplicated, edges by index, nodes in layers, groups in order
/// of first appearance.
struct Layered<'a> {
    nodes: Vec<&'a DagNode>,
    edges: Vec<(usize, usize)>,
    /// Node indices per layer, each layer sorted by name.
    layers: Vec<Vec<usize>>,
    groups: Vec<&'a str>,
}

impl<'a> Layered<'a> {
    /// The graph of `d`; `None` when it has no node.
    fn new(d: &'a Dag) -> Option<Layered<'a>> {
        // dedupe nodes by name, first wins
        let mut nodes: Vec<&DagNode> = Vec::new();
        for n in &d.nodes {
            if !nodes.iter().any(|m| m.name == n.name) {
                nodes.push(n);
            }
        }
        if nodes.is_empty() {
            return None;
        }
        let idx = |s: &str| nodes.iter().position(|n| n.name == s);
        let edges: Vec<(usize, usize)> = d
            .edges
            .iter()
            .filter_map(|(a, b)| Some((idx(a)?, idx(b)?)))
            .filter(|(a, b)| a != b)
            .collect();
        let layers = layering(&nodes, &edges);
        let mut groups: Vec<&str> = Vec::new();
        for nd in &nodes {
            if !groups.contains(&nd.group.as_str()) {
                groups.push(&nd.group);
            }
        }
        Some(Layered {
            nodes,
            edges,
            layers,
            groups,
        })
    }
}

/// Each node in the layer of its longest path from a source, capped at the node count so a
/// cycle cannot loop for ever; each layer sorted by name.
fn layering(nodes: &[&DagNode], edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let n = nodes.len();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in edges {
            if layer[b] < layer[a] + 1 && layer[a] + 1 < n {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let nl = layer.iter().max().copied().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); nl];
    for i in 0..n {
        layers[layer[i]].push(i);
    }
    for l in &mut layers {
        l.sort_by(|a, b| nodes[*a].name.cmp(&nodes[*b].name).then(a.cmp(b)));
    }
    layers
}

/// The drawing's geometry: one box size for every node, the layers side by side, each
/// centred vertically.
struct Layout {
    box_w: f64,
    box_h: f64,
    margin: f64,
    top: f64,
    /// Height of the tallest layer.
    inner_h: f64,
    /// Each node's box, top-left corner.
    pos: Vec<(f64, f64)>,
    items: Vec<(Key, String)>,
    w: f64,
    h: f64,
}

impl Layout {
    /// Boxes wide enough for the longest name or kind; the legend of groups below.
    fn new(d: &Dag, g: &Layered) -> Layout {
        let box_w = g
            .nodes
            .iter()
            .map(|nd| tw(&nd.name, 12.0).max(tw(&nd.kind, 10.0)) + 20.0)
            .fold(100.0, f64::max);
        let (box_h, hgap, vgap) = (40.0, 56.0, 14.0);
        let maxn = g.layers.iter().map(|l| l.len()).max().unwrap_or(1) as f64;
        let inner_h = maxn * (box_h + vgap) - vgap;
        let margin = 16.0;
        let w = (margin * 2.0 + g.layers.len() as f64 * (box_w + hgap) - hgap).max(320.0);
        let top = 34.0 + extra_title_height(title_lines(&d.title, w - 20.0));
        let items: Vec<(Key, String)> = g
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    Key::Boxed(i),
                    if g.is_empty() {
                        "(no group)".to_string()
                    } else {
                        g.to_string()
                    },
                )
            })
            .collect();
        let leg_h = legend_height(&items, w - 2.0 * margin);
        let h = top + inner_h + 16.0 + leg_h + 8.0;
        let mut pos = vec![(0.0, 0.0); g.nodes.len()];
        for (li, l) in g.layers.iter().enumerate() {
            let lh = l.len() as f64 * (box_h + vgap) - vgap;
            let y0 = top + (inner_h - lh) / 2.0;
            for (k, &i) in l.iter().enumerate() {
                pos[i] = (
                    margin + li as f64 * (box_w + hgap),
                    y0 + k as f64 * (box_h + vgap),
                );
            }
        }
        Layout {
            box_w,
            box_h,
            margin,
            top,
            inner_h,
            pos,
            items,
            w,
            h,
        }
    }

    /// Each edge as a curve from the right of its source box to the left of its target's, with
    /// the arrowhead `{pfx}-arrow`.
    fn edges(&self, o: &mut String, g: &Layered, pfx: &str) {
        let (pos, box_w, box_h) = (&self.pos, self.box_w, self.box_h);
        for &(a, b) in &g.edges {
            let (x1, y1) = (pos[a].0 + box_w, pos[a].1 + box_h / 2.0);
            let (x2, y2) = (pos[b].0, pos[b].1 + box_h / 2.0);
            let dx = ((x2 - x1) / 2.0).max(30.0);
            w!(
                o,
                r##"<path d="M{} {}C{} {} {} {} {} {}" fill="none" stroke="#555555" stroke-width="1.3" marker-end="url(#{pfx}-arrow)"><title>{} to {}</title></path>"##,
                f(x1),
                f(y1),
                f(x1 + dx),
                f(y1),
                f(x2 - dx),
                f(y2),
                f(x2),
                f(y2),
                esc(&g.nodes[a].name),
                esc(&g.nodes[b].name)
            );
        }
    }

    /// Each node, layer by layer, as a box in its group's colour and dash with its name and
    /// kind, linking to its entry in the report.
    fn nodes(&self, o: &mut String, g: &Layered) {
        let (box_w, box_h) = (self.box_w, self.box_h);
        for l in &g.layers {
            for &i in l {
                let nd = g.nodes[i];
                let gi = g.groups.iter().position(|g| *g == nd.group).unwrap_or(0);
                let col = PALETTE[gi % 8];
                let (x, y) = self.pos[i];
                // Sources are described in the report's data section, stages in its appendix.
                let anchor = if nd.kind == "source" {
                    "source"
                } else {
                    "stage"
                };
                w!(
                    o,
                    r#"<a href="{}">"#,
                    esc(&format!("#{anchor}-{}", nd.name))
                );
                w!(
                    o,
                    "<title>{} ({}, {})</title>",
                    esc(&nd.name),
                    esc(&nd.kind),
                    esc(&nd.group)
                );
                w!(
                    o,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="#ffffff"/><rect x="{0}" y="{1}" width="{2}" height="{3}" rx="5" fill="{col}" fill-opacity="0.15" stroke="{col}" stroke-width="2"{4}/>"##,
                    f(x),
                    f(y),
                    f(box_w),
                    f(box_h),
                    dash_attr(gi)
                );
                w!(
                    o,
                    r#"<text x="{}" y="{}" text-anchor="middle" font-size="12" font-weight="bold">{}</text>"#,
                    f(x + box_w / 2.0),
                    f(y + 17.0),
                    esc(&nd.name)
                );
                w!(
                    o,
                    r##"<text x="{}" y="{}" text-anchor="middle" font-size="10" fill="#444444">{}</text>"##,
                    f(x + box_w / 2.0),
                    f(y + 31.0),
                    esc(&nd.kind)
                );
                o.push_str("</a>");
            }
        }
    }
}
