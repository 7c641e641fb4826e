"""A Kubernetes API server for the plugin's tests (:class:`taskloom_kubernetes.testing.ApiServer`, whose Pods run
as local subprocesses), a real S3 server (moto's, from taskloom-s3's testing module) for the Pods' inputs and
outputs, and a :class:`~taskloom_kubernetes.KubernetesPool` talking to the API server through the real
``kubernetes`` client and a kubeconfig.

Servers are module-scoped and stopped at the module's end (the Pods' processes killed), also on failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugins.kubernetes.tests.manifests import assert_valid
from taskloom_s3.testing import S3Server, ServerPool, aws_environment

from taskloom_kubernetes import KubernetesExecutor, KubernetesPool
from taskloom_kubernetes.testing import ApiServer

HERE = Path(__file__).parent
#: The Pods' working directory (the image's): the repository's root, where the tests' workflows are the module
#: ``plugins.kubernetes.tests.k8s_flows``; ``loom run k8s_flows.py`` (test_cli) names them ``k8s_flows``, found
#: through PYTHONPATH.
ROOT = HERE.parents[2]
BIN = Path(sys.executable).parent  # loom-execute of this environment: the "image" the Pods run


@pytest.fixture(scope="session", autouse=True)
def private_state(taskloom_private_state: Path) -> Path:
    """The task cache and the execution store in a directory of this session, not the user's."""
    return taskloom_private_state


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    pool = ServerPool(str(tmp_path_factory.mktemp("s3-servers")))
    try:
        yield pool.get("moto")
    finally:
        pool.stop_all()


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    name = f"taskloom-k8s-{uuid.uuid4().hex[:8]}"
    s3_server.create_bucket(name)
    return name


def pod_environment(server: S3Server) -> dict[str, str]:
    """What the "image" gives every Pod's process: this environment with the S3 server's credentials, the
    environment's programs first on PATH."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTEST"))}
    for key, value in aws_environment(server).items():
        if value is not None:
            environment[key] = value
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment["PYTHONPATH"] = str(HERE)
    return environment


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[ApiServer]:
    """The API server, its Pods run from the repository's root."""
    server = ApiServer(
        str(tmp_path_factory.mktemp("pod-logs")),
        namespace="loom",
        environment=pod_environment(s3_server),
        workdir=str(ROOT),
    )
    with server:
        yield server
        running = server.running_processes()
    assert not running, f"Pods still running at the module's end: {running}"
    for manifest in server.created.values():  # every Pod the executor made is a valid Pod (issue 26, point 4a)
        assert_valid(manifest)


@pytest.fixture(scope="module")
def kubeconfig(api_server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    return api_server.kubeconfig(str(tmp_path_factory.mktemp("kube") / "config"))


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> None:
    """This process writes inputs and reads outputs on the S3 server."""
    for key, value in aws_environment(s3_server).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


@pytest.fixture
def pool(kubeconfig: str, bucket: str, s3_env: None) -> Iterator[KubernetesPool]:
    """A pool on the API server, its data under a fresh prefix of the bucket, Pods Pending at most 3 s."""
    made = KubernetesPool(
        kubeconfig=kubeconfig,
        raw_output_prefix=f"s3://{bucket}/{uuid.uuid4().hex[:8]}",
        image="taskloom-test:1",
        pending_timeout=3,
        image_pull_grace=0,
        size=4,
    )
    yield made
    made.close()


@pytest.fixture
def executor(pool: KubernetesPool) -> Iterator[KubernetesExecutor]:
    """taskloom-local's scheduler on ``pool``, as the executor ``kubernetes-test`` of this process."""
    with KubernetesExecutor(pool, name="kubernetes-test") as made:
        yield made


@pytest.fixture
def unrecorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
