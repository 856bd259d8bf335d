"""Clustering scored pairs into persons, with the constraints the register imposes.

Edges are merged from the most to the least probable (as in Kruskal's algorithm), with a
union-find over node ids, and a merge is refused when it would

- put two *anchored* nodes into one cluster (two known persons, e.g. two different valid
  ID numbers, are never one person; a reviewer's "not a match" is the same kind of
  constraint between two nodes), or
- join two nodes a reviewer declared not to be a match.

Reviewer "match" decisions enter as edges of probability 1. Plain connected components
(Splink's default) would let one poor record chain two real persons together.
"""

from __future__ import annotations

from collections.abc import Iterable


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.anchor: dict[str, str | None] = {}
        self.cannot: dict[str, set[str]] = {}

    def add(self, node: str, anchor: str | None = None) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.anchor[node] = anchor
            self.cannot[node] = set()

    def find(self, node: str) -> str:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def try_union(self, left: str, right: str) -> bool:
        a, b = self.find(left), self.find(right)
        if a == b:
            return True
        if self.anchor[a] is not None and self.anchor[b] is not None:
            return False
        # Cannot-link sets are tiny (reviewer decisions), so a scan per merge is cheap.
        if any(self.find(other) == b for other in self.cannot[a]):
            return False
        if any(self.find(other) == a for other in self.cannot[b]):
            return False
        if len(self.cannot[a]) < len(self.cannot[b]):
            a, b = b, a
        self.parent[b] = a
        if self.anchor[a] is None:
            self.anchor[a] = self.anchor[b]
        self.cannot[a] |= self.cannot.pop(b)
        return True


def cluster_edges(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    anchors: dict[str, str] | None = None,
    cannot_link: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """Cluster nodes along accepted edges under anchor and cannot-link constraints.

    Args:
        nodes: every node id (nodes without edges become singletons).
        edges: accepted (left, right, probability) edges; reviewer matches with 1.0.
        anchors: node id -> the fixed identity it carries (e.g. a person id); two
            different anchors never share a cluster.
        cannot_link: node pairs that must stay apart (reviewer "not a match").

    Returns:
        node id -> cluster root: the anchor of the cluster if it has one, else the
        smallest node id in it (stable whatever order the edges came in).
    """
    anchors = anchors or {}
    forest = _UnionFind()
    for node in nodes:
        forest.add(node, anchors.get(node))
    for left, right in cannot_link:
        if left in forest.parent and right in forest.parent:
            forest.cannot[forest.find(left)].add(right)
            forest.cannot[forest.find(right)].add(left)
    # Highest probability first; ties broken by ids so the result is deterministic.
    for left, right, _probability in sorted(edges, key=lambda edge: (-edge[2], edge[0], edge[1])):
        if left in forest.parent and right in forest.parent:
            forest.try_union(left, right)
    smallest: dict[str, str] = {}
    for node in forest.parent:
        root = forest.find(node)
        if root not in smallest or node < smallest[root]:
            smallest[root] = node
    result: dict[str, str] = {}
    for node in forest.parent:
        root = forest.find(node)
        anchor = forest.anchor[root]
        result[node] = anchor if anchor is not None else smallest[root]
    return result
