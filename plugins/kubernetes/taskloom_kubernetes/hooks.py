"""taskloom-kubernetes's hook implementations, and nothing else (the entry point
``kubernetes = "taskloom_kubernetes.hooks"``).

The kernel imports this module the first time one of its hooks is called (``loom run`` does, for its options),
so it stays cheap: the ``kubernetes`` client (~0.3 s) is imported only when the executor ``kubernetes`` is asked
for, and click only when ``loom run`` builds its options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

from taskloom_kubernetes.options import (
    DEFAULT_NAME,
    IMAGE_ENV,
    IMAGE_PULL_POLICY_ENV,
    KEEP_PODS_ENV,
    KUBECONFIG_CONTEXT_ENV,
    NAMESPACE_ENV,
    PARALLELISM_ENV,
    SERVICE_ACCOUNT_ENV,
)

if TYPE_CHECKING:
    from taskloom.extend import TaskPool

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.6"  # PoolExecutor


@hookimpl
def taskloom_task_pool(name: str) -> TaskPool | None:
    """The Pods of the executor ``kubernetes``, from the ``TASKLOOM_K8S_*`` variables.

    A :class:`~taskloom_kubernetes.KubernetesExecutor`'s pool is found by the kernel under the name it was given,
    before this hook is asked (:class:`taskloom.extend.PoolExecutor`).
    """
    if name != DEFAULT_NAME:
        return None
    from taskloom_kubernetes.pool import default_pool  # the kubernetes client (~0.3 s): only for this executor

    return default_pool()


@hookimpl
def taskloom_run_options() -> list[Any]:
    """``loom run --namespace NS --image IMAGE --keep-pods ...`` for ``--executor kubernetes``."""
    import click  # only when loom run builds its options
    from taskloom.extend import run_option

    return [
        run_option("--namespace", envvar=NAMESPACE_ENV, metavar="NS", help="The namespace of the Pods"),
        run_option("--image", envvar=IMAGE_ENV, metavar="IMAGE", help="The image of tasks that name none"),
        run_option("--keep-pods", envvar=KEEP_PODS_ENV, is_flag=True, help="Leave finished Pods in the cluster"),
        run_option("--kube-context", envvar=KUBECONFIG_CONTEXT_ENV, metavar="NAME", help="The kubeconfig context"),
        run_option(
            "--image-pull-policy",
            envvar=IMAGE_PULL_POLICY_ENV,
            type=click.Choice(["Always", "IfNotPresent", "Never"]),
            help="The image pull policy of the Pods' task containers",
        ),
        run_option("--service-account", envvar=SERVICE_ACCOUNT_ENV, metavar="NAME", help="The Pods' service account"),
        run_option("--k8s-parallelism", envvar=PARALLELISM_ENV, type=int, metavar="N", help="How many Pods at once"),
    ]


@hookimpl
def taskloom_signal_board(executor: str) -> Any:
    """The board the gates of ``--executor kubernetes`` wait on: they wait in this process, in taskloom-local's
    scheduler, so it is the board of the executor ``local`` (``loom run --executor kubernetes --signal NAME=VALUE``).
    """
    if executor != DEFAULT_NAME:
        return None
    from taskloom.extend import signal_board

    return signal_board("local")
