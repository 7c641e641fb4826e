"""Options plugins add to ``loom run`` (hook :func:`~taskloom.hookspecs.taskloom_run_options`).

A module of its own, not :mod:`taskloom.run`: that one is the command line's alone, and a plugin's hooks
make their options without importing it.
"""

from __future__ import annotations

import os
from typing import Any

import click


def run_option(*names: str, envvar: str, help: str, **attributes: Any) -> click.Option:
    """An option of ``loom run`` for a plugin's :func:`~taskloom.hookspecs.taskloom_run_options`: its value,
    when given, is set as the environment variable ``envvar`` (a flag given sets ``"1"``), where the plugin
    reads it, as ``--processes`` sets ``TASKLOOM_PROCESSES``.

    ``names`` are the option's names (``"--dask-scheduler"``); ``attributes`` go to :class:`click.Option`
    (``type``, ``metavar``, ``is_flag``). The help says which variable it sets, so a user knows the
    setting outside ``loom run`` too.
    """

    def apply(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False or value == ():
            return
        os.environ[envvar] = "1" if value is True else str(value)

    return click.Option(list(names), expose_value=False, callback=apply, help=f"{help} (${envvar})", **attributes)
