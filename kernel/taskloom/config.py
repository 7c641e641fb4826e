"""taskloom's user configuration file.

The file is TOML, found at ``$TASKLOOM_CONFIG`` or else ``$XDG_CONFIG_HOME/taskloom/config.toml``
(``~/.config/taskloom/config.toml`` when ``XDG_CONFIG_HOME`` is unset). A missing file is an empty
configuration. Sections are owned by the part of taskloom that reads them::

    [plugins]
    disable = ["dask", "types"]   # the same as TASKLOOM_DISABLE_PLUGINS=dask,types
"""

from __future__ import annotations

import os
from typing import Any

from taskloom.exceptions.user import ValidationError

CONFIG_ENV = "TASKLOOM_CONFIG"


def config_path() -> str:
    """Return the path of the configuration file (which may not exist)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "taskloom", "config.toml")


def read_config() -> dict[str, Any]:
    """Return the parsed configuration file, or ``{}`` when there is none.

    Raises :class:`~taskloom.exceptions.user.ValidationError` naming the file when it is not valid TOML.
    """
    path = config_path()
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    import tomllib  # only when a file exists: keeps `import taskloom` and `loom --help` lean

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValidationError(f"taskloom configuration file {path} is not valid TOML: {error}") from error
