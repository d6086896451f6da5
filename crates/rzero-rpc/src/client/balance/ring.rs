//! A consistent-hash ring with virtual nodes: go-zero's `core/hash/consistenthash.go`,
//! the math behind the `consistent_hash` balancer, with no tower or tonic type in it.
//!
//! Each node is placed on a 64-bit ring `replicas` times, at the hashes of
//! `"{node}#{i}"`; a key goes to the first virtual node at or after its own hash,
//! wrapping at the end. Adding a node to `n` moves only the keys that now fall on the
//! new node's points, about `1/(n+1)` of them, and every other key stays where it was;
//! removing one moves only its own keys. With 100 virtual nodes per node (go-zero's
//! default) the share of each node stays within a few percent of even.
//!
//! The hash is XXH3-64 (the `xxhash-rust` crate): fast on short keys, and the same in
//! every process and on every platform, so every client of a service sends a key to
//! the same server.

use xxhash_rust::xxh3::xxh3_64;

/// go-zero's default number of virtual nodes per node.
pub const DEFAULT_REPLICAS: usize = 100;

/// The ring over nodes `K`, built once per endpoint set.
#[derive(Clone, Debug)]
pub struct Ring<K> {
    /// `(hash, node index)`, sorted by hash, then by node name for equal hashes (so
    /// every client orders a collision the same way).
    points: Vec<(u64, u32)>,
    nodes: Vec<K>,
}

impl<K> Ring<K> {
    /// A ring over `nodes`, each named by `name` (the same name must give the same
    /// node in every client: an address), placed `replicas` times (at least once).
    pub fn new(nodes: Vec<K>, replicas: usize, name: impl Fn(&K) -> &str) -> Self {
        let replicas = replicas.max(1);
        let mut points = Vec::with_capacity(nodes.len() * replicas);
        let mut buf = String::new();
        for (i, node) in nodes.iter().enumerate() {
            let Ok(idx) = u32::try_from(i) else { break };
            for r in 0..replicas {
                buf.clear();
                use std::fmt::Write as _;
                let _ = write!(buf, "{}#{r}", name(node));
                points.push((xxh3_64(buf.as_bytes()), idx));
            }
        }
        points.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| name(&nodes[a.1 as usize]).cmp(name(&nodes[b.1 as usize])))
        });
        Ring { points, nodes }
    }

    /// The node `key` belongs to; `None` on an empty ring.
    pub fn get(&self, key: &[u8]) -> Option<&K> {
        if self.points.is_empty() {
            return None;
        }
        let h = xxh3_64(key);
        let at = self.points.partition_point(|(p, _)| *p < h);
        let (_, idx) = self.points[at % self.points.len()];
        self.nodes.get(idx as usize)
    }

    /// The nodes on the ring.
    pub fn nodes(&self) -> &[K] {
        &self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(names: &[&str]) -> Ring<String> {
        let nodes = names.iter().map(|n| (*n).to_owned()).collect();
        Ring::new(nodes, DEFAULT_REPLICAS, |n: &String| n.as_str())
    }

    #[test]
    fn keys_spread_and_stay() {
        let r = ring(&["a:1", "b:1", "c:1"]);
        let mut counts = std::collections::HashMap::new();
        for i in 0..30_000 {
            let key = format!("user-{i}");
            let node = r.get(key.as_bytes()).expect("a node");
            assert_eq!(r.get(key.as_bytes()), Some(node), "same key, same node");
            *counts.entry(node.clone()).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 3);
        for (node, n) in counts {
            // Even is 10 000; 100 virtual nodes keep each share well inside 25-42%.
            assert!((7_500..12_500).contains(&n), "{node}: {n}");
        }
    }

    #[test]
    fn a_new_node_takes_keys_only_for_itself() {
        let before = ring(&["a:1", "b:1", "c:1"]);
        let after = ring(&["a:1", "b:1", "c:1", "d:1"]);
        let mut moved = 0;
        for i in 0..20_000 {
            let key = format!("k{i}");
            let (x, y) = (before.get(key.as_bytes()), after.get(key.as_bytes()));
            if x != y {
                assert_eq!(
                    y.map(String::as_str),
                    Some("d:1"),
                    "moved to the new node only"
                );
                moved += 1;
            }
        }
        assert!((2_000..8_000).contains(&moved), "moved {moved} of 20000");
    }

    #[test]
    fn order_of_nodes_does_not_matter_and_empty_is_none() {
        let x = ring(&["a:1", "b:1", "c:1"]);
        let y = ring(&["c:1", "a:1", "b:1"]);
        for i in 0..1_000 {
            let key = format!("{i}");
            assert_eq!(x.get(key.as_bytes()), y.get(key.as_bytes()));
        }
        assert!(ring(&[]).get(b"k").is_none());
        assert_eq!(
            ring(&["only:1"]).get(b"k").map(String::as_str),
            Some("only:1")
        );
    }
}
