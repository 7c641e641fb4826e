"""Where the execution report draws things: a DAG's nodes in layers, a timeline's bars in lanes.

Worked out in Python when the page is written (the page's script only draws), so that the layout is tested
here and a large graph costs the browser nothing but drawing. The DAG is drawn left to right: a node's layer
is the length of the longest path from a node with no upstream (longest-path layering), and the nodes of each
layer are ordered to reduce crossing edges (barycenter sweeps, down and up, a few times: the heuristic
Sugiyama-style layouts start from). Hundreds of nodes stay readable: a wide graph grows downwards, one row per
node of its widest layer, and nothing overlaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Sweeps of the crossing reduction (each one down the layers and one up); more rarely helps.
SWEEPS = 4


def layers(upstream: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Each node's layer: 0 for a node with no upstream, else one more than its deepest upstream node.
    Upstream ids that are not nodes are ignored; a cycle (which a compiled graph never has) is cut where found.
    """
    found: dict[str, int] = {}
    visiting: set[str] = set()
    for start in upstream:
        if start in found:
            continue
        # Iterative depth-first search: a chain of thousands of nodes must not hit the recursion limit.
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in found:
                continue
            sources = [source for source in upstream.get(node, ()) if source in upstream]
            if expanded:
                visiting.discard(node)
                found[node] = 1 + max((found.get(source, -1) for source in sources), default=-1)
                continue
            visiting.add(node)
            stack.append((node, True))
            stack.extend((source, False) for source in sources if source not in found and source not in visiting)
    return found


def order(upstream: Mapping[str, Iterable[str]], layer_of: Mapping[str, int]) -> list[list[str]]:
    """The nodes of each layer, in the order that crosses fewer edges (barycenter heuristic)."""
    count = 1 + max(layer_of.values(), default=-1)
    ordered: list[list[str]] = [[] for _ in range(count)]
    for node in upstream:  # the graph's own order first: stable, and what a reader wrote
        ordered[layer_of[node]].append(node)
    parents = {node: [source for source in upstream[node] if source in layer_of] for node in upstream}
    children: dict[str, list[str]] = {node: [] for node in upstream}
    for node, sources in parents.items():
        for source in sources:
            children[source].append(node)
    for _ in range(SWEEPS):
        for neighbours, indices in ((parents, range(1, count)), (children, range(count - 2, -1, -1))):
            for index in indices:
                position = {node: place for layer in ordered for place, node in enumerate(layer)}
                keys = {}
                for node in ordered[index]:
                    linked = neighbours[node]
                    # A node with no neighbour there keeps its place.
                    keys[node] = sum(position[other] for other in linked) / len(linked) if linked else position[node]
                ordered[index].sort(key=keys.__getitem__)
    return ordered


def crossings(upstream: Mapping[str, Iterable[str]], ordered: list[list[str]]) -> int:
    """How many pairs of edges between adjacent layers cross (to measure the ordering)."""
    position = {node: place for layer in ordered for place, node in enumerate(layer)}
    layer_of = {node: index for index, layer in enumerate(ordered) for node in layer}
    edges = [
        (position[source], position[node], layer_of[node])
        for node, sources in upstream.items()
        for source in sources
        if source in layer_of and layer_of[source] == layer_of[node] - 1
    ]
    total = 0
    for index, (a_from, a_to, a_layer) in enumerate(edges):
        for b_from, b_to, b_layer in edges[index + 1 :]:
            if a_layer == b_layer and (a_from - b_from) * (a_to - b_to) < 0:
                total += 1
    return total


def dag_positions(upstream: Mapping[str, Iterable[str]]) -> dict[str, tuple[int, int]]:
    """``{node: (layer, row)}``: the column and the row each node is drawn at."""
    layer_of = layers(upstream)
    return {
        node: (index, row) for index, layer in enumerate(order(upstream, layer_of)) for row, node in enumerate(layer)
    }


def lanes(intervals: Iterable[tuple[str, float, float]]) -> dict[str, int]:
    """``{name: lane}`` for ``(name, start, end)`` intervals: each in the first lane free at its start (the
    interval-partitioning greedy, which uses as many lanes as the most intervals overlapping at one time), so
    bars that overlap in time never hide each other.
    """
    ends: list[float] = []
    found: dict[str, int] = {}
    for name, start, end in sorted(intervals, key=lambda item: (item[1], item[2])):
        for lane, busy_until in enumerate(ends):
            if busy_until <= start:
                ends[lane] = end
                found[name] = lane
                break
        else:
            found[name] = len(ends)
            ends.append(end)
    return found
