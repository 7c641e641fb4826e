"""The agents plugins contribute (the hook ``taskloom_agents``).

The kernel runs no agent itself: taskloom-agent serves them (``loom serve agent``) and runs the tasks
whose type has one; it asks here, so that any plugin can add agents without import side effects.
"""

from __future__ import annotations

from typing import Any

from taskloom.plugins import get_plugin_manager


def contributed_agents() -> list[Any]:
    """Every agent the installed plugins contribute, the plugin asked first first. See
    :func:`taskloom.hookspecs.taskloom_agents`."""
    return [agent for contributed in get_plugin_manager().hook.taskloom_agents() for agent in contributed or ()]
