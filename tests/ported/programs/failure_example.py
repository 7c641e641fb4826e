"""A workflow with a failure handler: when a node fails, a clean-up task runs with the workflow's inputs."""

import os
import tempfile
import typing

from flytekit import task, workflow
from flytekit.types.error import FlyteError

LOG = os.path.join(os.environ.get("PORTED_TMP", tempfile.gettempdir()), "failure_example_log")


@task
def create_cluster(name: str) -> str:
    return f"cluster-{name}"


@task
def run_job(cluster: str, fail: bool) -> int:
    if fail:
        raise ValueError(f"job on {cluster} failed")
    return 42


@task
def clean_up(name: str, fail: bool, err: typing.Optional[FlyteError] = None) -> None:
    with open(LOG, "a") as out:
        out.write(f"cleaning {name}: {'error' if err is not None else 'no error'}\n")


@workflow(on_failure=clean_up)
def job_wf(name: str, fail: bool) -> int:
    cluster = create_cluster(name=name)
    return run_job(cluster=cluster, fail=fail)


if __name__ == "__main__":
    print(job_wf(name="a", fail=False))
    try:
        job_wf(name="b", fail=True)
    except Exception as error:
        print("failed:", "job on cluster-b failed" in str(error))
    with open(LOG) as handle:
        print(handle.read().strip())
