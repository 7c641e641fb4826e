#!/usr/bin/env python3
"""Agent server throughput: ``loom serve agent`` side by side with flytekit 1.16's ``pyflyte serve agent``.

    python3 benchmarks/agent_throughput.py [--calls 2000] [--concurrency 16] [--rounds 3]

Each server runs the same trivial async agent, written against its own SDK's API (task type ``bench``:
``create`` returns a job id, ``get`` says SUCCEEDED with the output ``y = 1`` as a Python value), in its own
virtual environment. One client, the same for both (grpc.aio with flyteidl's stubs, run by taskloom's
interpreter), keeps ``--concurrency`` CreateTask+GetTask pairs in flight until ``--calls`` pairs are done,
after a warm-up of a tenth as many; it reports pairs per second and the p50/p99 latency of a pair. The
servers take turns, one at a time, for ``--rounds`` rounds; the best round of each is kept (the machine is
shared). The ratio is taskloom's rate over flytekit's, or flytekit's latency over taskloom's (higher is better
for taskloom); the target (DESIGN §5) is at least 2x flytekit's throughput.

A third server, the floor, is grpc.aio answering constants (no agent, no conversion): what the gRPC runtime
itself costs per call with this client on this machine. Its rate over flytekit's bounds what any Python agent
server can show here; client and server share the machine's cores. Server CPU per pair (from /proc, the
warm-up included) is the figure least disturbed by whatever else the machine runs. The client's CPU per pair
(its rusage) bounds the rate from the other side: a client that spends C seconds of one core per pair cannot
make more than 1/C pairs a second, however little the server costs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import BENCH, DEFAULT_FLYTEKIT_VENV, DEFAULT_TASKLOOM_PYTHON, child_env, ensure_flytekit_venv, print_rows

TARGET = 2.0
#: What `pyflyte serve agent` needs beyond flytekit (flytekit[agent], without its ceiling on
#: grpcio-health-checking, whose 1.68 would take protobuf below the one flytekit runs with).
FLYTEKIT_AGENT_PACKAGES = ("prometheus-client", "grpcio-health-checking", "httpx")

TASKLOOM_AGENT = r"""
import dataclasses, itertools
from taskloom_agent import AgentRegistry, AsyncAgentBase, Resource, ResourceMeta, TaskExecution

@dataclasses.dataclass
class BenchMeta(ResourceMeta):
    job_id: int

class BenchAgent(AsyncAgentBase):
    name = "Bench Agent"
    def __init__(self):
        super().__init__(task_type_name="bench", metadata_type=BenchMeta)
        self._ids = itertools.count()
    async def create(self, task_template, output_prefix, inputs=None, **kwargs):
        return BenchMeta(job_id=next(self._ids))
    async def get(self, resource_meta, **kwargs):
        return Resource(phase=TaskExecution.SUCCEEDED, outputs={"y": 1})
    async def delete(self, resource_meta, **kwargs):
        return None

AgentRegistry.register(BenchAgent())
"""

FLYTEKIT_AGENT = r"""
import dataclasses, itertools
from flyteidl.core.execution_pb2 import TaskExecution
from flytekit.extend.backend.base_agent import AgentRegistry, AsyncAgentBase, Resource, ResourceMeta

@dataclasses.dataclass
class BenchMeta(ResourceMeta):
    job_id: int

class BenchAgent(AsyncAgentBase):
    name = "Bench Agent"
    def __init__(self):
        super().__init__(task_type_name="bench", metadata_type=BenchMeta)
        self._ids = itertools.count()
    async def create(self, task_template, output_prefix, inputs=None, **kwargs):
        return BenchMeta(job_id=next(self._ids))
    async def get(self, resource_meta, **kwargs):
        return Resource(phase=TaskExecution.SUCCEEDED, outputs={"y": 1})
    async def delete(self, resource_meta, **kwargs):
        return None

AgentRegistry.register(BenchAgent())
"""

#: The floor: grpc.aio with handlers that answer constants, no agent, no conversion. No server of agents written
#: in Python can go below what this one costs per call; it says how far either side is from it.
FLOOR_SERVER = r"""
import asyncio, sys, grpc
from flyteidl.admin import agent_pb2
from flyteidl.service import agent_pb2_grpc

class Constant(agent_pb2_grpc.AsyncAgentServiceServicer):
    async def CreateTask(self, request, context):
        return agent_pb2.CreateTaskResponse(resource_meta=b'{"job_id": 1}')
    async def GetTask(self, request, context):
        resource = agent_pb2.Resource(phase=3)
        resource.outputs.literals["y"].scalar.primitive.integer = 1
        return agent_pb2.GetTaskResponse(resource=resource)

async def main():
    server = grpc.aio.server()
    agent_pb2_grpc.add_AsyncAgentServiceServicer_to_server(Constant(), server)
    agent_pb2_grpc.add_AgentMetadataServiceServicer_to_server(agent_pb2_grpc.AgentMetadataServiceServicer(), server)
    server.add_insecure_port("127.0.0.1:" + sys.argv[1])
    await server.start()
    await server.wait_for_termination()

asyncio.run(main())
"""

CLIENT = r"""
import asyncio, json, statistics, sys, time
import grpc
from flyteidl.admin import agent_pb2
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl.service import agent_pb2_grpc

ENDPOINT, CALLS, CONCURRENCY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

integer = types_pb2.LiteralType(simple=types_pb2.INTEGER)
template = tasks_pb2.TaskTemplate(
    id=identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project="p", domain="d", name="bench.t", version="v1"),
    type="bench",
    metadata=tasks_pb2.TaskMetadata(runtime=tasks_pb2.RuntimeMetadata(type=tasks_pb2.RuntimeMetadata.FLYTE_SDK)),
    interface=interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(variables={"x": interface_pb2.Variable(type=integer)}),
        outputs=interface_pb2.VariableMap(variables={"y": interface_pb2.Variable(type=integer)}),
    ),
    container=tasks_pb2.Container(image="img:1", args=["pyflyte-execute", "--inputs", "{{.input}}"]),
)
inputs = literals_pb2.LiteralMap(literals={"x": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=1)))})
create = agent_pb2.CreateTaskRequest(template=template, inputs=inputs, output_prefix="/tmp/bench")
category = agent_pb2.TaskCategory(name="bench", version=0)

async def pairs(stub, count, latencies):
    for _ in range(count):
        began = time.perf_counter()
        meta = (await stub.CreateTask(create, timeout=30)).resource_meta
        resource = (await stub.GetTask(agent_pb2.GetTaskRequest(task_category=category, resource_meta=meta), timeout=30)).resource
        assert resource.phase == 3 and resource.outputs.literals["y"].scalar.primitive.integer == 1, resource
        latencies.append(time.perf_counter() - began)

async def run(stub, calls):
    latencies = []
    share, extra = divmod(calls, CONCURRENCY)
    began = time.perf_counter()
    await asyncio.gather(*(pairs(stub, share + (i < extra), latencies) for i in range(CONCURRENCY)))
    return time.perf_counter() - began, latencies

async def main():
    async with grpc.aio.insecure_channel(ENDPOINT) as channel:
        stub = agent_pb2_grpc.AsyncAgentServiceStub(channel)
        await run(stub, max(CONCURRENCY, CALLS // 10))  # warm-up
        elapsed, latencies = await run(stub, CALLS)
    latencies.sort()
    print(json.dumps({
        "rate": CALLS / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }))

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_agent_packages(python: Path) -> None:
    """Add what `pyflyte serve agent` needs to flytekit's venv when missing (only adds)."""
    probe = "import prometheus_client, grpc_health, httpx"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return
    print(f"adding {', '.join(FLYTEKIT_AGENT_PACKAGES)} to {python.parent.parent}", file=sys.stderr)
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *FLYTEKIT_AGENT_PACKAGES]
    if subprocess.run(command).returncode != 0:
        sys.exit(f"pip could not add {', '.join(FLYTEKIT_AGENT_PACKAGES)} to {python.parent.parent}")


def start(command: list[str], work: Path, env: dict, log: Path) -> subprocess.Popen:
    """Start a server; wait until it answers ListAgents (asked by taskloom's interpreter's grpc)."""
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=output, stderr=output)
    return process


def wait_ready(python: str, endpoint: str, process: subprocess.Popen, log: Path, env: dict) -> None:
    probe = (
        "import sys, grpc\n"
        "from flyteidl.admin import agent_pb2\n"
        "from flyteidl.service import agent_pb2_grpc\n"
        "with grpc.insecure_channel(sys.argv[1]) as channel:\n"
        "    grpc.channel_ready_future(channel).result(timeout=60)\n"
        "    try:\n"
        "        agent_pb2_grpc.AgentMetadataServiceStub(channel).ListAgents(agent_pb2.ListAgentsRequest(), timeout=10)\n"
        "    except grpc.RpcError as error:\n"
        "        if error.code() != grpc.StatusCode.UNIMPLEMENTED:  # the floor server lists no agents\n"
        "            raise\n"
    )
    done = subprocess.run([python, "-c", probe, endpoint], capture_output=True, text=True, env=env)
    if done.returncode != 0 or process.poll() is not None:
        stop(process)
        sys.exit(f"server at {endpoint} did not start: {log.read_text()[-2000:]}{done.stderr[-500:]}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(side: str, command: list[str], port: int, arguments: argparse.Namespace, work: Path, env: dict) -> dict:
    log = work / f"{side}.log"
    process = start(command, work, env, log)
    endpoint = f"127.0.0.1:{port}"
    try:
        wait_ready(arguments.taskloom_python, endpoint, process, log, env)
        client = work / "agent_client.py"
        client.write_text(CLIENT)
        cpu_before = cpu_seconds(process.pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [arguments.taskloom_python, str(client), endpoint, str(arguments.calls), str(arguments.concurrency)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
        figures = dict(json.loads(done.stdout.strip().splitlines()[-1]))
        pairs = arguments.calls + max(arguments.concurrency, arguments.calls // 10)  # with the warm-up
        figures["cpu"] = (cpu_seconds(process.pid) - cpu_before) / pairs
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the client is the one child waited for since
        used = children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
        figures["client_cpu"] = used / pairs
        return figures
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="CreateTask+GetTask pairs per round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="pairs in flight (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each server (default 3)")
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV))
    arguments = parser.parse_args()

    # Absolute (the servers run in a work directory), not resolved: a venv's python is a symlink to its base.
    arguments.taskloom_python = str(Path(arguments.taskloom_python).absolute())
    flytekit_python = ensure_flytekit_venv(Path(arguments.flytekit_venv).absolute())
    ensure_agent_packages(flytekit_python)
    work = BENCH / ".work" / "agent"
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench_agent_taskloom.py").write_text(TASKLOOM_AGENT)
    (work / "bench_agent_flytekit.py").write_text(FLYTEKIT_AGENT)
    env = {**child_env(), "PYTHONPATH": str(work)}
    loom = [arguments.taskloom_python, "-c", "from taskloom.cli import main; main()"]

    (work / "floor_server.py").write_text(FLOOR_SERVER)
    results: dict[str, list[dict]] = {"taskloom": [], "flytekit": [], "floor": []}
    for _ in range(arguments.rounds):
        port = free_port()
        floor = [arguments.taskloom_python, str(work / "floor_server.py"), str(port)]
        results["floor"].append(measure("floor", floor, port, arguments, work, env))
        port = free_port()
        taskloom = [*loom, "serve", "agent", "--port", str(port), "--modules", "bench_agent_taskloom"]
        results["taskloom"].append(measure("taskloom", taskloom, port, arguments, work, env))
        port = free_port()
        pyflyte = [str(flytekit_python.parent / "pyflyte"), "serve", "agent", "--port", str(port)]
        pyflyte += ["--prometheus_port", str(free_port()), "--modules", "bench_agent_flytekit"]
        results["flytekit"].append(measure("flytekit", pyflyte, port, arguments, work, env))

    for side, rounds in results.items():
        errors = [round_ for round_ in rounds if "error" in round_]
        if errors:
            sys.exit(f"{side}: {errors[0]['error']}")
    best = {side: max(rounds, key=lambda round_: round_["rate"]) for side, rounds in results.items()}
    ours, theirs, floor = best["taskloom"], best["flytekit"], best["floor"]
    rates = {side: ", ".join(f"{round_['rate']:.0f}" for round_ in rounds) for side, rounds in results.items()}
    print(
        f"{arguments.calls} CreateTask+GetTask pairs, {arguments.concurrency} in flight, best of "
        f"{arguments.rounds} rounds (every round's pairs/s: taskloom {rates['taskloom']}; flytekit {rates['flytekit']}; "
        f"floor {rates['floor']})"
    )
    ratio = ours["rate"] / theirs["rate"]
    print_rows(
        ("figure", "taskloom", "flytekit", "ratio", "target", "met?", "grpc.aio floor"),
        [
            (
                "pairs per second",
                f"{ours['rate']:.0f}",
                f"{theirs['rate']:.0f}",
                f"{ratio:.1f}×",
                f"≥ {TARGET:g}×",
                "yes" if ratio >= TARGET else "NO",
                f"{floor['rate']:.0f} ({floor['rate'] / theirs['rate']:.1f}× flytekit)",
            ),
            (
                "server CPU per pair",
                f"{ours['cpu'] * 1000:.2f} ms",
                f"{theirs['cpu'] * 1000:.2f} ms",
                f"{theirs['cpu'] / ours['cpu']:.1f}×",
                "—",
                "—",
                f"{floor['cpu'] * 1000:.2f} ms",
            ),
            (
                "client CPU per pair",
                f"{ours['client_cpu'] * 1000:.2f} ms",
                f"{theirs['client_cpu'] * 1000:.2f} ms",
                "—",
                "—",
                "—",
                f"{floor['client_cpu'] * 1000:.2f} ms",
            ),
            (
                "p50 latency of a pair",
                f"{ours['p50'] * 1000:.1f} ms",
                f"{theirs['p50'] * 1000:.1f} ms",
                f"{theirs['p50'] / ours['p50']:.1f}×",
                "—",
                "—",
                f"{floor['p50'] * 1000:.1f} ms",
            ),
            (
                "p99 latency of a pair",
                f"{ours['p99'] * 1000:.1f} ms",
                f"{theirs['p99'] * 1000:.1f} ms",
                f"{theirs['p99'] / ours['p99']:.1f}×",
                "—",
                "—",
                f"{floor['p99'] * 1000:.1f} ms",
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
