"""Faults of the API server and of Pods (issue 26, points 2, 3 and 5), injected into the test API server: each is
absorbed (retried with backoff, the watch resumed) or ends the attempt clearly, recoverable when Flyte retries it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from plugins.kubernetes.tests.k8s_flows import add, oom_once, sleeps, sleepy, waits_forever
from taskloom.extend import UserTimeoutError

from taskloom_kubernetes import KubernetesExecutor, KubernetesPool, PodFailure, PodPendingError, RecoverablePodError
from taskloom_kubernetes.testing import ApiServer


def watches(api_server: ApiServer, since: int) -> list[str]:
    return [path for method, path in api_server.requests[since:] if method == "GET" and "watch=" in path.lower()]


def lists(api_server: ApiServer, since: int) -> list[str]:
    return [
        path
        for method, path in api_server.requests[since:]
        if method == "GET" and "fieldSelector" in path and "watch=" not in path.lower()
    ]


@pytest.mark.parametrize(("method", "status"), [("POST", 429), ("POST", 500), ("GET", 429), ("GET", 500)])
def test_429_and_500_answers_are_retried_with_backoff(
    pool: KubernetesPool, api_server: ApiServer, method: str, status: int
) -> None:
    since = len(api_server.requests)
    api_server.fault("status", method=method, path="/pods", status=status, times=2)
    assert pool.run(add, {"x": 1, "y": 2}, execution_id="f1", attempt=0) == 3
    sent = [path for verb, path in api_server.requests[since:] if verb == method]
    assert len(sent) >= 3  # two answered with the fault, then the one that went through


def test_a_create_whose_answer_was_lost_adopts_its_pod_on_the_409(pool: KubernetesPool, api_server: ApiServer) -> None:
    since = len(api_server.requests)
    api_server.fault("lost", method="POST")
    assert pool.run(add, {"x": 2, "y": 2}, execution_id="f2", attempt=0) == 4
    assert [verb for verb, _ in api_server.requests[since:]].count("POST") == 2


def test_a_409_for_a_pod_that_is_not_this_attempts_fails_naming_the_pod(
    pool: KubernetesPool, api_server: ApiServer
) -> None:
    api_server.fault("status", method="POST", status=409)
    with pytest.raises(PodFailure, match=r"Pod loom/add-[a-z0-9-]+ could not be created: 409 injected by the test"):
        pool.run(add, {"x": 1, "y": 1}, execution_id="f3", attempt=0)


def test_an_expired_watch_lists_again_and_watches_from_the_new_version(
    pool: KubernetesPool, api_server: ApiServer
) -> None:
    since = len(api_server.requests)
    api_server.fault("expire", method="GET", path="watch=", times=1)
    assert pool.run(sleeps, {"seconds": 0.5}, execution_id="f4", attempt=0) == 1
    assert len(lists(api_server, since)) >= 2  # the first list, and the one after the 410
    assert len(watches(api_server, since)) >= 2


def test_a_dropped_watch_resumes_from_the_last_resource_version(pool: KubernetesPool, api_server: ApiServer) -> None:
    since = len(api_server.requests)
    api_server.fault("drop", method="GET", path="watch=", times=1)
    assert pool.run(sleeps, {"seconds": 0.5}, execution_id="f5", attempt=0) == 1
    sent = watches(api_server, since)
    assert len(sent) >= 2
    versions = [int(path.split("resourceVersion=")[1].split("&")[0]) for path in sent]
    assert versions[1] == versions[0]  # from the last version seen: nothing came before the break
    assert len(lists(api_server, since)) == 1  # no relist: the watch went on


@pytest.fixture
def impatient(kubeconfig: str, bucket: str, s3_env: None) -> Iterator[KubernetesPool]:
    made = KubernetesPool(kubeconfig=kubeconfig, raw_output_prefix=f"s3://{bucket}/impatient", pending_timeout=1)
    yield made
    made.close()


def test_a_pod_stuck_pending_fails_naming_the_pod_and_its_last_condition(
    impatient: KubernetesPool, api_server: ApiServer
) -> None:
    api_server.pod_fault("waits_forever", "pending")
    with pytest.raises(PodPendingError) as caught:
        impatient.run(waits_forever, {"x": 1}, execution_id="f6", attempt=0)
    message = str(caught.value)
    assert "Pod loom/waits-forever-" in message and "still Pending after 1s" in message
    assert "PodScheduled False: Unschedulable: 0/1 nodes are available" in message
    assert not [pod for pod in api_server.pods() if pod["metadata"]["name"].startswith("waits-forever-")]


@pytest.mark.parametrize(
    ("fault", "said"),
    [("pull", "ErrImagePull"), ("oom", "OOMKilled"), ("evict", "evicted"), ("preempt", "preempted")],
)
def test_pull_errors_oom_eviction_and_preemption_are_recoverable_and_retried(
    pool: KubernetesPool, api_server: ApiServer, unrecorded: None, fault: str, said: str, executor: KubernetesExecutor
) -> None:
    api_server.pod_fault("oom_once", fault)
    with pytest.raises(RecoverablePodError, match=said):
        pool.run(oom_once, {"x": 1}, execution_id=f"g-{fault}", attempt=0)
    api_server.pod_fault("oom_once", fault)
    assert executor.execute(oom_once, {"x": 1}) == 101  # the retry, a new Pod, succeeds


def test_a_timeout_is_active_deadline_seconds_and_a_timeout_error(pool: KubernetesPool, api_server: ApiServer) -> None:
    with pytest.raises(UserTimeoutError, match="activeDeadlineSeconds=1"):
        pool.run(sleepy, {"seconds": 30.0}, timeout=dt.timedelta(seconds=1), execution_id="f7", attempt=0)


def test_pods_are_kept_with_keep_pods(kubeconfig: str, bucket: str, s3_env: None, api_server: ApiServer) -> None:
    keeping = KubernetesPool(kubeconfig=kubeconfig, raw_output_prefix=f"s3://{bucket}/kept", keep_pods=True)
    try:
        assert keeping.run(add, {"x": 5, "y": 5}, execution_id="kept", attempt=0) == 10
        kept = [pod for pod in api_server.pods() if pod["metadata"]["labels"]["taskloom.io/execution"] == "kept"]
        assert [pod["status"]["phase"] for pod in kept] == ["Succeeded"]
    finally:
        for pod in api_server.pods():
            api_server.delete(pod["metadata"]["name"])
        keeping.close()


def test_kill_deletes_the_running_pods_and_their_attempts_fail(pool: KubernetesPool, api_server: ApiServer) -> None:
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(sleeps, {"seconds": 60.0}, execution_id="killed", attempt=0)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not api_server.running_processes():
        time.sleep(0.05)
    assert api_server.running_processes()
    pool.kill()
    thread.join(20)
    assert isinstance(outcome[0], RecoverablePodError) and "interrupted" in str(outcome[0])
    assert not [pod for pod in api_server.pods() if pod["metadata"]["labels"]["taskloom.io/execution"] == "killed"]
    assert not api_server.running_processes()
