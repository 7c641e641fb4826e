"""taskloom-agent costs a run that uses no agent next to nothing: it listens to no lifecycle event (the local
executor keeps its fast paths), its hook module (which every run loads) imports neither click, grpc nor protobuf,
and the package's names resolve lazily."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def modules_after(code: str, tmp_path) -> set[str]:
    environment = {"TASKLOOM_RECORD": "0", "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_workflow_run_loads_the_hook_module_and_nothing_heavy_of_it(tmp_path):
    loaded = modules_after(
        """
        from taskloom import task, workflow

        @task
        def inc(x: int) -> int:
            return x + 1

        @workflow
        def wf(x: int) -> int:
            return inc(x=x)

        assert wf(x=1) == 2
        """,
        tmp_path,
    )
    assert "taskloom_agent.hooks" in loaded  # every run loads the plugins' hook modules (listeners())
    heavy = {"click", "grpc", "google.protobuf", "flyteidl", "taskloom_agent.service", "taskloom_agent.mixins"}
    assert heavy & loaded == set()


def test_the_authors_api_imports_no_grpc_nor_protobuf(tmp_path):
    loaded = modules_after("from taskloom_agent import AsyncAgentBase, Resource, ResourceMeta, TaskExecution", tmp_path)
    assert {"grpc", "google.protobuf", "flyteidl"} & loaded == set()


def test_the_plugin_listens_to_no_lifecycle_event(tmp_path):
    loaded = modules_after(
        """
        from taskloom.extend import SILENT, listeners

        assert listeners() is SILENT
        """,
        tmp_path,
    )
    assert "taskloom_agent.hooks" in loaded
