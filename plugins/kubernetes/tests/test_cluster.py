"""End to end on a real cluster (issue 26, point 4c): skipped unless ``KUBECONFIG`` is set.

Needs an image holding taskloom (this tree installed) and this repository at its working directory, where the
Pods import ``plugins.kubernetes.tests.k8s_flows`` (``TASKLOOM_K8S_TEST_IMAGE``), and a raw output prefix the Pods and this process can both reach
(``TASKLOOM_K8S_TEST_PREFIX``, ``s3://bucket/prefix``, credentials in both environments). The command is in the
plugin's README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from plugins.kubernetes.tests.k8s_flows import diamond, fails, squares

from taskloom_kubernetes import KubernetesExecutor, KubernetesPool, TaskPodError

pytestmark = pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="no KUBECONFIG: no real cluster to run on")


@pytest.fixture(scope="module")
def cluster_pool() -> Iterator[KubernetesPool]:
    image = os.environ.get("TASKLOOM_K8S_TEST_IMAGE")
    prefix = os.environ.get("TASKLOOM_K8S_TEST_PREFIX")
    if not image or not prefix:
        pytest.fail("KUBECONFIG is set: give TASKLOOM_K8S_TEST_IMAGE and TASKLOOM_K8S_TEST_PREFIX too (README)")
    made = KubernetesPool(kubeconfig=os.environ["KUBECONFIG"], image=image, raw_output_prefix=prefix)
    yield made
    made.close()


def test_a_workflow_and_a_map_run_as_pods_of_the_cluster(cluster_pool: KubernetesPool, unrecorded: None) -> None:
    executor = KubernetesExecutor(cluster_pool, name="kubernetes-cluster")
    assert executor.execute(diamond, {"x": 3}) == 19
    assert executor.execute(squares, {"xs": [1, 2, 3]}) == [1, 4, 9]


def test_a_user_error_on_the_cluster_shows_the_pods_log(cluster_pool: KubernetesPool, unrecorded: None) -> None:
    with pytest.raises(TaskPodError, match="no good: 2") as caught:
        KubernetesExecutor(cluster_pool, name="kubernetes-cluster").execute(fails, {"x": 1})
    assert "about to fail on 2" in str(caught.value)
