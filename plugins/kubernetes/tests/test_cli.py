"""``loom run --executor kubernetes`` in a process of its own (issue 26, points 1 and 3): options, a failed run
resumed without redoing what finished, SIGTERM deleting the running Pods, and hooks that import no kubernetes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from taskloom.cli import cli
from taskloom_s3.testing import S3Server, aws_environment

from taskloom_kubernetes.testing import ApiServer

HERE = Path(__file__).parent


def loom_command(arguments: list[str]) -> list[str]:
    return [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments]


def loom_environment(tmp_path: Path, kubeconfig: str, s3_server: S3Server) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "TASKLOOM_K8S_"))}
    env.pop("TASKLOOM_EXECUTOR", None)
    env.update({key: value for key, value in aws_environment(s3_server).items() if value is not None})
    env.update(KUBECONFIG=kubeconfig, TASKLOOM_DATA_DIR=str(tmp_path / "data"))
    return env


def executor_options(bucket: str, prefix: str) -> list[str]:
    return [
        "--executor",
        "kubernetes",
        "--namespace",
        "loom",
        "--image",
        "taskloom-test:1",
        "--raw-output-prefix",
        f"s3://{bucket}/{prefix}",
        "--progress",
        "never",
    ]


def test_a_failed_run_resumes_without_redoing_what_finished(
    tmp_path: Path, kubeconfig: str, s3_server: S3Server, bucket: str, api_server: ApiServer
) -> None:
    env = loom_environment(tmp_path, kubeconfig, s3_server)
    counter, gate = tmp_path / "counter", tmp_path / "gate"
    inputs = ["--counter", str(counter), "--gate", str(gate), "--x", "1"]
    run = ["run", *executor_options(bucket, "cli")]
    failed = subprocess.run(
        loom_command([*run, "k8s_flows.py", "gated", *inputs]),
        capture_output=True,
        text=True,
        cwd=HERE,
        env=env,
        timeout=120,
    )
    assert failed.returncode == 1, failed.stderr
    assert "the gate file is missing" in failed.stderr and "Traceback" not in failed.stderr
    assert "last lines of the log of Pod loom/second-" in failed.stderr
    execution = re.search(r"--resume (\w+)", failed.stderr)
    assert execution is not None, failed.stderr
    gate.touch()
    resumed = subprocess.run(
        loom_command([*run, "--resume", execution.group(1), "k8s_flows.py", "gated", *inputs]),
        capture_output=True,
        text=True,
        cwd=HERE,
        env=env,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "20" in resumed.stdout
    assert counter.read_text() == "first\n"  # first ran once, in the failed run
    assert api_server.pods() == []


def test_sigterm_deletes_the_running_pods(
    tmp_path: Path, kubeconfig: str, s3_server: S3Server, bucket: str, api_server: ApiServer
) -> None:
    env = {**loom_environment(tmp_path, kubeconfig, s3_server), "TASKLOOM_RECORD": "0"}
    before = set(api_server.created)
    process = subprocess.Popen(
        loom_command(["run", *executor_options(bucket, "term"), "k8s_flows.py", "sleeps", "--seconds", "60"]),
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not api_server.running_processes():
            time.sleep(0.05)
        assert api_server.running_processes(), "no Pod started"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0, stderr
    started = set(api_server.created) - before
    assert started
    assert not [pod for pod in api_server.pods() if pod["metadata"]["name"] in started]
    assert not api_server.running_processes()


def test_loom_run_help_shows_the_options_and_their_variables() -> None:
    done = CliRunner().invoke(cli, ["run", "--help"])
    assert done.exit_code == 0, done.output
    for option, variable in [
        ("--namespace NS", "TASKLOOM_K8S_NAMESPACE"),
        ("--image IMAGE", "TASKLOOM_K8S_IMAGE"),
        ("--keep-pods", "TASKLOOM_K8S_KEEP_PODS"),
    ]:
        assert option in done.output and f"${variable}" in done.output


@pytest.mark.parametrize("module", ["taskloom_kubernetes", "taskloom_kubernetes.hooks"])
def test_loading_the_plugin_imports_no_kubernetes_client_nor_click(module: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(sorted({{'kubernetes', 'click'}} & set(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"
