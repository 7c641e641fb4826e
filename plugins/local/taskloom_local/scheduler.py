"""Scheduling a workflow's nodes on the local executor: dataflow order, concurrency, failure policy.

A node starts when every node it depends on (through a promise or ``>>``) has finished, so
independent nodes run concurrently on a thread pool. A node that is the only one able to run is run
on the scheduling thread itself, which changes nothing about order or concurrency and saves a thread
hand-off per node of a chain. The workflow's failure policy decides what a failure stops:
``FAIL_IMMEDIATELY`` starts no further node and raises when the running ones are done;
``FAIL_AFTER_EXECUTABLE_NODES_COMPLETE`` runs every node that does not depend on a failed one, then
raises. A workflow with a failure node (``@workflow(on_failure=...)``) then runs it once, with the
workflow's inputs and a ``FlyteError`` naming the failed node, before raising. Each node goes to
the :class:`~taskloom_local.runner.NodeRunner`, which gives subworkflows back to the scheduler; in a
resume, :mod:`taskloom_local.resume` says which nodes are skipped.
"""

from __future__ import annotations

import collections
import queue
from typing import TYPE_CHECKING, Any

from taskloom.extend import START_NODE, FlyteError, Node, WorkflowBase, WorkflowFailurePolicy
from taskloom_local.execution import Execution, gates_of
from taskloom_local.recorder import GRAPH
from taskloom_local.resume import finished_nodes, reuse
from taskloom_local.runner import NodeRunner, resolve

if TYPE_CHECKING:
    from taskloom_local.executor import LocalExecutor


class Scheduler:
    """Runs the nodes of workflows as their inputs come to exist, each through its :attr:`nodes`.

    ``executor`` gives the settings (``max_workers`` bounds the threads of one workflow run) and
    what the node runner uses (cache, worker processes).
    """

    def __init__(self, executor: LocalExecutor) -> None:
        self.max_workers = executor.max_workers
        #: The runner of each node; it gives subworkflows and launch plans back to this scheduler.
        self.nodes = NodeRunner(executor, self)

    def run_workflow(
        self,
        workflow: WorkflowBase,
        inputs: dict[str, Any],
        execution: Execution,
        prefix: str = "",
        max_parallelism: int | None = None,
    ) -> dict[str, Any]:
        """Run every node of ``workflow`` within ``execution``; return its outputs by name.

        ``prefix`` tells apart the nodes of a subworkflow (the id of the node that runs it);
        ``max_parallelism`` bounds how many of its nodes run at once (a launch plan's setting).
        Raises the first failing node's exception, with notes naming the node, the workflow and
        the other nodes that failed, after running the workflow's failure node if it has one.
        """
        graph = _GraphRun(workflow, inputs)
        finished: dict[str, dict[str, Any]] | None = None  # a resume: outputs of the nodes it skips
        if execution.record is not None:
            execution.record((GRAPH, execution.name, prefix, workflow))
            if execution.previous is not None:
                finished = finished_nodes(workflow, graph.waiting_on, execution, prefix)
        self._run_graph(graph, execution, prefix, finished, max_parallelism)
        if graph.failures:
            node, error = graph.failures[0]
            if workflow.failure_node is not None and not execution.cancelled:
                self._run_failure_node(workflow.failure_node, node, error, graph.values, execution, prefix)
            error.add_note(f"in node {node.id} of workflow {workflow.name!r}")
            if len(graph.failures) > 1:
                others = ", ".join(other.id for other, _ in graph.failures[1:])
                error.add_note(f"{len(graph.failures) - 1} more node(s) failed: {others}")
            raise error
        return {name: resolve(value, graph.values) for name, value in workflow.output_bindings.items()}

    def _run_failure_node(
        self,
        failure_node: Node,
        failed: Node,
        error: BaseException,
        values: dict[str, dict[str, Any]],
        execution: Execution,
        prefix: str,
    ) -> None:
        """Run the workflow's failure node once (it has its own retries), its input ``err`` (when it
        takes one) the :class:`FlyteError` of ``failed``'s ``error``. Its own failure is a note on
        ``error``: the workflow fails with the original error either way, as on a Flyte backend.
        """
        handler = failure_node.entity
        bindings = failure_node.bindings
        if "err" in handler.python_interface.inputs:
            name = getattr(failed.entity, "name", failed.id)
            message = f"node {failed.id} ({name!r}) failed: {type(error).__name__}: {error}"
            # flytekit, run locally, names the failure node itself (fn0); a backend names the failed node.
            bindings["err"] = FlyteError(message=message, failed_node_id=failed.id)
        node = Node(failure_node.id, handler, bindings)
        if execution.previous is not None:
            execution.prune(f"{prefix}{node.id}")  # a resume that fails again runs it again, never reuses it
        try:
            self.nodes.run_node(node, values, execution, prefix)
        except Exception as handler_error:
            error.add_note(
                f"failure node {node.id} ({getattr(handler, 'name', handler)!r}) failed too: "
                f"{type(handler_error).__name__}: {handler_error}"
            )

    def _run_graph(
        self,
        graph: _GraphRun,
        execution: Execution,
        prefix: str,
        finished: dict[str, dict[str, Any]] | None,
        max_parallelism: int | None,
    ) -> None:
        """Start the graph's nodes as they become ready, until none is ready or running."""
        run_node, start_node, values = self.nodes.run_node, self.nodes.start_node, graph.values
        nodes, ready, waiting_on, finish = graph.nodes, graph.ready, graph.waiting_on, graph.finish
        # The pool (and concurrent.futures, ~6 ms to import) is made when two nodes can run at once.
        pool: Any = None
        running: dict[Any, Node] = {}
        ended: queue.SimpleQueue[Any] = queue.SimpleQueue()  # the running nodes' futures, as they end
        try:
            while True:
                while ready:
                    if execution.cancelled:  # Ctrl-C or SIGTERM: nothing new starts
                        raise KeyboardInterrupt(execution.cancelled)
                    node_id = ready.popleft()
                    if waiting_on.pop(node_id, None) is None:  # dropped after a failure
                        continue
                    node = nodes[node_id]
                    if finished is not None and node_id in finished:
                        finish(node, reuse(node.entity, f"{prefix}{node_id}", finished[node_id], execution, None), None)
                        continue
                    if not ready and not running:
                        # The only node that can run now: nothing can start before it ends, so run it
                        # here and spare the thread hand-off (long chains run at function-call speed).
                        try:
                            result = run_node(node, values, execution, prefix)
                        except Exception as error:
                            finish(node, None, error)
                        else:
                            finish(node, result, None)
                        continue
                    # On a pool that starts bodies itself, a task node needs no thread of ours while it runs.
                    future = start_node(node, values, execution, prefix) if max_parallelism is None else None
                    if future is None:
                        if pool is None:
                            from taskloom_local.threads import DaemonThreadPool

                            pool = DaemonThreadPool(max_parallelism or self.max_workers)
                        future = pool.submit(run_node, node, values, execution, prefix)
                    running[future] = node
                    execution.running[future] = f"{prefix}{node_id}"
                    future.add_done_callback(ended.put)
                if not running:
                    break
                _wait_for_one(graph, running, ended, execution)
        except BaseException:  # interrupted (Ctrl-C): gates waiting in the pool must not hold it open
            gates_of(execution, cancel=True)
            if pool is not None:  # what still runs on a thread is abandoned, not waited for
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
            raise
        finally:
            for future in running:
                execution.running.pop(future, None)
            if pool is not None:
                pool.shutdown(wait=True)


class _GraphRun:
    """One run of a workflow's graph: the outputs so far (by node id; the workflow's inputs are those
    of the start node), what each node still waits on, what can start now, and the failures.
    """

    __slots__ = ("downstream", "failures", "gates_cancelled", "keep_going", "nodes", "ready", "values", "waiting_on")

    def __init__(self, workflow: WorkflowBase, inputs: dict[str, Any]) -> None:
        self.values: dict[str, dict[str, Any]] = {START_NODE: dict(inputs)}
        self.nodes = {node.id: node for node in workflow.nodes}
        self.waiting_on = {
            node_id: {upstream.id for upstream in node.upstream_nodes} for node_id, node in self.nodes.items()
        }
        self.downstream: dict[str, list[str]] = collections.defaultdict(list)
        for node_id, upstream_ids in self.waiting_on.items():
            for upstream_id in upstream_ids:
                self.downstream[upstream_id].append(node_id)
        self.failures: list[tuple[Node, BaseException]] = []
        self.keep_going = workflow.failure_policy is WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
        self.ready = collections.deque(node_id for node_id, upstream in self.waiting_on.items() if not upstream)
        self.gates_cancelled = False  # gates waiting for a signal were woken (the run is failing)

    def finish(self, node: Node, result: dict[str, Any] | None, error: BaseException | None) -> None:
        """``node`` ended with ``result`` or ``error``: make ready what waited only on it, or drop
        what can no longer run (with ``FAIL_IMMEDIATELY``, everything not started).
        """
        if error is None:
            self.values[node.id] = result  # type: ignore[assignment]
            waiting_on, ready = self.waiting_on, self.ready
            for child in self.downstream[node.id]:
                upstream = waiting_on.get(child)
                if upstream is not None:
                    upstream.discard(node.id)
                    if not upstream:
                        ready.append(child)
            return
        self.failures.append((node, error))
        for child in _descendants(node.id, self.downstream):  # they can never run
            self.waiting_on.pop(child, None)
        if not self.keep_going:
            self.waiting_on.clear()
            self.ready.clear()


def _wait_for_one(
    graph: _GraphRun, running: dict[Any, Node], ended: queue.SimpleQueue[Any], execution: Execution
) -> None:
    """Wait until a node running on the pool ends, and finish the ones that did.

    The futures come from ``ended``, where each one's done callback put it: ``concurrent.futures.wait`` on the
    running futures would install and remove a waiter on every one of them for every node that ends, so a fan-out
    whose nodes end one at a time (on a cluster) cost the square of its width (1,000 nodes: 15% of the process).
    """
    done = [ended.get()]
    while True:  # and whatever else ended meanwhile
        try:
            done.append(ended.get_nowait())
        except queue.Empty:
            break
    for future in done:
        node = running.pop(future)
        execution.running.pop(future, None)
        if future.cancelled():  # queued behind a failure: never started
            continue
        error = future.exception()
        graph.finish(node, None if error is not None else future.result(), error)
    if graph.failures and not graph.keep_going:
        for future in running:  # nodes queued but not started do not start
            future.cancel()
        if not graph.gates_cancelled:  # gates waiting for a signal stop waiting: the run is failing
            gates_of(execution, cancel=True)
            graph.gates_cancelled = True
    if execution.cancelled and not running:
        raise KeyboardInterrupt(execution.cancelled)


def _descendants(node_id: str, downstream: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    pending = list(downstream[node_id])
    while pending:
        child = pending.pop()
        if child not in found:
            found.add(child)
            pending.extend(downstream[child])
    return found
