"""The executor ``kubernetes`` end to end: the real ``kubernetes`` client against the test API server, whose Pods
run the real ``loom-execute`` as subprocesses, with inputs and outputs on a real S3 server (moto)."""

from __future__ import annotations

import os

import pytest
from plugins.kubernetes.tests.k8s_flows import (
    cached,
    diamond,
    fails,
    fan_out,
    flaky,
    mostly,
    on_base_template,
    on_missing_template,
    reads_secret,
    squares,
    where,
)
from plugins.kubernetes.tests.manifests import BASE

from taskloom_kubernetes import KubernetesExecutor, KubernetesPool, PodFailure, TaskPodError
from taskloom_kubernetes.testing import ApiServer

FLOWS = "plugins.kubernetes.tests.k8s_flows"  # the module the Pods import, from the repository's root


def test_a_workflow_of_several_tasks_runs_each_node_as_a_pod(
    pool: KubernetesPool, api_server: ApiServer, unrecorded: None, executor: KubernetesExecutor
) -> None:
    before = set(api_server.created)
    assert executor.execute(diamond, {"x": 3}) == 6 + 13
    made = [api_server.created[name] for name in set(api_server.created) - before]
    tasks = sorted(pod["metadata"]["annotations"]["taskloom.io/task-name"] for pod in made)
    assert tasks == [f"{FLOWS}.add", f"{FLOWS}.add", f"{FLOWS}.double"]
    args = made[0]["spec"]["containers"][0]["args"]
    assert args[0] == "loom-execute"
    assert all("{{" not in arg for arg in args)
    assert args[args.index("--inputs") + 1].startswith(f"{pool.raw_output_prefix}/")
    assert api_server.pods() == []  # deleted once finished


def test_the_task_body_runs_in_the_pods_process(pool: KubernetesPool, unrecorded: None) -> None:
    value, pid, attempt = pool.run(where, {"x": 5}, execution_id="e1", attempt=0)
    assert (value, attempt) == (5, "0")
    assert pid != os.getpid()


def test_a_map_task_runs_one_pod_per_element(
    pool: KubernetesPool, api_server: ApiServer, unrecorded: None, executor: KubernetesExecutor
) -> None:
    before = set(api_server.created)
    assert executor.execute(squares, {"xs": [1, 2, 3, 4]}) == [1, 4, 9, 16]
    names = [
        api_server.created[name]["metadata"]["annotations"]["taskloom.io/task-name"]
        for name in set(api_server.created) - before
    ]
    assert names.count(f"{FLOWS}.square") == 4


def test_a_user_error_is_not_retried_and_shows_the_pods_last_log_lines(
    pool: KubernetesPool, api_server: ApiServer, unrecorded: None, executor: KubernetesExecutor
) -> None:
    before = set(api_server.created)
    with pytest.raises(TaskPodError) as caught:
        executor.execute(fails, {"x": 2})  # broken has retries=2: a user error uses none of them
    made = [
        api_server.created[name]["metadata"]["annotations"]["taskloom.io/task-name"]
        for name in set(api_server.created) - before
    ]
    assert made.count(f"{FLOWS}.broken") == 1
    message = str(caught.value)
    assert "failed in Pod loom/broken-" in message and "ValueError: no good: 4" in message
    assert "Traceback" not in message and "Traceback" in caught.value.remote_traceback
    assert "last lines of the log of Pod loom/broken-" in message
    assert "about to fail on 4" in message


def test_a_recoverable_error_is_retried_in_a_new_pod(
    pool: KubernetesPool, api_server: ApiServer, tmp_path, unrecorded: None, executor: KubernetesExecutor
) -> None:
    marker = tmp_path / "attempts"
    before = set(api_server.created)
    assert executor.execute(flaky, {"marker": str(marker)}) == 2
    attempts = sorted(
        api_server.created[name]["metadata"]["labels"]["taskloom.io/attempt"]
        for name in set(api_server.created) - before
    )
    assert attempts == ["0", "1", "2"]


def test_a_cached_task_runs_one_pod_for_the_same_inputs(
    pool: KubernetesPool, tmp_path, unrecorded: None, executor: KubernetesExecutor
) -> None:
    marker = tmp_path / "runs"
    assert executor.execute(cached, {"marker": str(marker), "x": 1}) == 2
    assert executor.execute(cached, {"marker": str(marker), "x": 1}) == 2
    assert marker.read_text() == "x"  # the second run was served by the cache: no Pod
    assert executor.execute(cached, {"marker": str(marker), "x": 2}) == 3
    assert marker.read_text() == "xx"


def test_a_secret_of_the_namespace_reaches_the_task_as_flytekit_reads_it(
    pool: KubernetesPool, api_server: ApiServer, unrecorded: None
) -> None:
    api_server.secrets["db"] = {"password": "hunter2"}
    assert pool.run(reads_secret, {"x": 1}, execution_id="s1", attempt=0) == "1:hunter2"


def test_a_missing_secret_is_not_retried_and_names_the_pod(pool: KubernetesPool, api_server: ApiServer) -> None:
    api_server.secrets.pop("db", None)
    with pytest.raises(
        PodFailure, match=r"Pod loom/reads-secret-.* cannot start its container: CreateContainerConfigError"
    ):
        pool.run(reads_secret, {"x": 1}, execution_id="s2", attempt=0)


def test_min_success_ratio_gives_none_for_the_elements_whose_pods_failed(
    api_server: ApiServer, unrecorded: None, executor: KubernetesExecutor
) -> None:
    assert executor.execute(mostly, {"xs": [2, 3, 4]}) == [2, None, 4]


def test_a_dynamic_body_runs_here_and_its_children_as_pods(
    api_server: ApiServer, unrecorded: None, executor: KubernetesExecutor
) -> None:
    before = set(api_server.created)
    assert executor.execute(fan_out, {"n": 3}) == [0, 2, 4]
    made = [
        api_server.created[name]["metadata"]["annotations"]["taskloom.io/task-name"]
        for name in set(api_server.created) - before
    ]
    assert sorted(made) == [f"{FLOWS}.double"] * 3  # the dynamic body itself is no Pod


def test_pod_template_name_reads_the_clusters_pod_template(pool: KubernetesPool, api_server: ApiServer) -> None:
    api_server.pod_templates["gpu-base"] = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "gpu-base"},
        "template": BASE,
    }
    before = set(api_server.created)
    assert pool.run(on_base_template, {"x": 1}, execution_id="t1", attempt=0) == "1:task:1"
    (made,) = [api_server.created[name] for name in set(api_server.created) - before]
    assert made["spec"]["tolerations"] == [{"key": "gpu", "operator": "Exists"}]


def test_a_pod_template_name_the_cluster_lacks_names_it(pool: KubernetesPool) -> None:
    with pytest.raises(PodFailure, match="pod_template_name 'nowhere': no such PodTemplate in namespace 'loom'"):
        pool.run(on_missing_template, {"x": 1}, execution_id="t2", attempt=0)


def test_the_executor_kubernetes_takes_signals_before_it_is_made() -> None:
    from taskloom.extend import signal_board

    # `loom run --executor kubernetes --signal NAME=VALUE` sends before any pool exists: the gates wait in this
    # process, in taskloom-local's scheduler, on its board.
    assert signal_board("kubernetes") is signal_board("local") is not None


def test_a_run_that_keeps_logs_keeps_each_pods_log_as_its_nodes(
    executor: KubernetesExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskloom.extend import get_executor
    from taskloom_local import ExecutionStore

    monkeypatch.setenv("TASKLOOM_RECORD", "1")  # read when the executor is made
    monkeypatch.setenv("TASKLOOM_CAPTURE_LOGS", "1")  # what loom run --report sets
    recorded = get_executor(executor.name)  # the scheduler of --executor kubernetes again, recording, on the same pool
    with pytest.raises(TaskPodError):
        recorded.execute(fails, {"x": 2})
    store = ExecutionStore()
    (record,) = store.executions(1)
    logs = {node.path: node.logs for node in store.nodes(record.id)}
    assert "about to fail on 4" in logs["n1"]  # printed by the body in its Pod
