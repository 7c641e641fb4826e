"""``loom serve agent``: flyteidl's agent services for the agents of this process, until SIGTERM.

Loopback unless ``--host`` says otherwise; ``--token-file`` makes calls without the bearer token fail with
UNAUTHENTICATED; ``--tls-cert``/``--tls-key`` serve TLS only. On SIGTERM or Ctrl-C the server stops taking
calls, marks itself NOT_SERVING and lets the calls in flight finish (up to ``--grace`` seconds).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from pathlib import Path

import click


@click.group("serve")
def serve() -> None:
    """Serve taskloom's definitions to other systems (flytekit's ``pyflyte serve``)."""


@serve.command("agent")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; 0.0.0.0 or :: for every one.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one."
)
@click.option(
    "--workers", default=10, show_default=True, type=click.IntRange(1), help="Threads for agents' plain (def) methods."
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM private key.")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Refuse calls without 'authorization: Bearer <the file's text>' (health checks excepted).",
)
@click.option("--grace", default=10.0, show_default=True, type=float, help="Seconds calls in flight get at shutdown.")
@click.option(
    "--modules", multiple=True, help="Import these modules first (flytekit's option: their agents register on import)."
)
def serve_agent(
    host: str,
    port: int,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    token_file: Path | None,
    grace: float,
    modules: tuple[str, ...],
) -> None:
    """Serve the agents of this process (plugins' and --modules') as Flyte's v1 agent services over gRPC."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    token = token_file.read_text().strip() if token_file is not None else None
    if token_file is not None and not token:
        raise click.UsageError(f"--token-file {token_file}: the file is empty")
    if os.getcwd() not in sys.path:  # modules of the directory the server starts in, as pyflyte does
        sys.path.append(os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise click.UsageError(f"--modules {module}: {error}") from error
    logging.basicConfig(level=logging.INFO, format="loom serve agent: %(message)s", stream=sys.stderr)
    credentials = (tls_key.read_bytes(), tls_cert.read_bytes()) if tls_cert and tls_key else None
    asyncio.run(_serve(host, port, workers, credentials, token, grace))


async def _serve(
    host: str, port: int, workers: int, credentials: tuple[bytes, bytes] | None, token: str | None, grace: float
) -> None:
    # grpc and the services are imported here: `loom --help` and `loom run` never need them.
    import grpc

    from taskloom_agent.base import AgentRegistry
    from taskloom_agent.service import build_server, set_serving

    agents = AgentRegistry.list_agents()  # the plugins' agents are asked for now, not on the first call
    server, health_servicer, calls = build_server(workers=workers, token=token)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        if credentials is not None:
            bound = server.add_secure_port(address, grpc.ssl_server_credentials([credentials]))
        else:
            bound = server.add_insecure_port(address)
    except RuntimeError as error:
        raise click.ClickException(f"cannot bind {address}: {error}") from error
    await server.start()
    await set_serving(health_servicer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    kinds = ", ".join(sorted(f"{agent.task_category}" for agent in agents)) or "none"
    security = ("TLS" if credentials else "plaintext") + (", bearer token" if token else "")
    # The first line is the one tests and scripts wait for: it names the port bound (with --port 0).
    print(f"serving on {host}:{bound} ({security}); agents: {kinds}", flush=True)
    await stop.wait()
    print(f"stopping: calls in flight get up to {grace:g} s", flush=True)
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace)
    calls.close()
    print("stopped", flush=True)
