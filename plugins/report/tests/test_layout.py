"""The report's layout: DAG layers and their order, timeline lanes."""

from __future__ import annotations

from taskloom_report.layout import crossings, dag_positions, lanes, layers, order


def test_a_node_sits_one_layer_after_its_deepest_upstream_node():
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"], "e": []}
    assert layers(graph) == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 0}


def test_a_chain_of_thousands_of_nodes_is_laid_out_without_recursion():
    graph = {f"n{index}": ([f"n{index - 1}"] if index else []) for index in range(5000)}
    assert layers(graph)["n4999"] == 4999


def test_upstream_ids_that_are_not_nodes_and_cycles_do_not_break_the_layout():
    assert layers({"a": ["start-node"], "b": ["a", "b"]}) == {"a": 0, "b": 1}


def test_the_ordering_removes_the_crossings_of_a_twisted_graph():
    # a1 feeds b2 and a2 feeds b1: drawn in the graph's own order the two edges cross.
    graph = {"a1": [], "a2": [], "b1": ["a2"], "b2": ["a1"], "c1": ["b1"], "c2": ["b2"]}
    unordered = [["a1", "a2"], ["b1", "b2"], ["c1", "c2"]]
    assert crossings(graph, unordered) == 1
    assert crossings(graph, order(graph, layers(graph))) == 0


def test_every_node_gets_its_own_place():
    graph = {f"n{index}": ["root"] for index in range(300)} | {"root": []}
    positions = dag_positions(graph)
    assert len(set(positions.values())) == len(graph) == 301
    assert positions["root"] == (0, 0)


def test_overlapping_intervals_get_different_lanes_and_later_ones_reuse_free_lanes():
    found = lanes([("a", 0.0, 2.0), ("b", 1.0, 3.0), ("c", 2.0, 4.0), ("d", 1.5, 1.6)])
    assert found["a"] != found["b"] and found["b"] != found["d"] and found["a"] != found["d"]
    assert found["c"] == found["a"]  # a is done when c starts
    assert max(found.values()) == 2  # as many lanes as intervals overlap at most (a, b, d)
