"""taskloom-agent's hook implementations, and nothing else (the entry point ``agent = "taskloom_agent.hooks"``).

``loom run`` imports this module for its options, so it stays cheap: grpc, protobuf and the server are
imported inside the hooks that need them.
"""

from __future__ import annotations

from typing import Any

from taskloom.extend import hookimpl

#: The plugin API this plugin was written for: 1.5 (the hook ``taskloom_agents`` and
#: ``taskloom.extend.contributed_agents``). A kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.5"

#: Where tasks that run through their agent find it: ``host:port`` of an agent server; unset, the agent
#: of this process (``AgentRegistry``) runs them with no server.
ENDPOINT_ENV = "TASKLOOM_AGENT_ENDPOINT"
#: A file holding the bearer token the agent server asks for.
TOKEN_FILE_ENV = "TASKLOOM_AGENT_TOKEN_FILE"
#: The PEM certificate (or its CA's) that a TLS agent server is checked against; set, the channel is TLS.
TLS_CA_ENV = "TASKLOOM_AGENT_TLS_CA"


@hookimpl
def taskloom_cli_commands() -> list[Any]:
    # click's group only; the server's modules (grpc, protobuf) are imported when it starts.
    from taskloom_agent.cli import serve

    return [serve]


@hookimpl
def taskloom_run_options() -> list[Any]:
    # click (run_option's options) only when loom run asks: every run loads this module (listeners() does).
    from taskloom.extend import run_option

    return [
        run_option(
            "--agent-endpoint",
            envvar=ENDPOINT_ENV,
            metavar="HOST:PORT",
            help="Run tasks that have an agent against this agent server instead of in this process",
        ),
        run_option(
            "--agent-token-file",
            envvar=TOKEN_FILE_ENV,
            metavar="FILE",
            help="Send the bearer token in FILE to the agent server",
        ),
        run_option(
            "--agent-tls-ca",
            envvar=TLS_CA_ENV,
            metavar="FILE",
            help="Talk TLS to the agent server, checking its certificate against this PEM file",
        ),
    ]
