"""taskloom-s3: ``s3://`` URIs for taskloom's storage, through s3fs.

Installed, it serves ``s3://`` (and ``s3a://``) for every part of taskloom that stores data
(``FlyteFile``, ``FlyteDirectory``, ``--raw-output-prefix s3://bucket/runs``). Configuration comes
from the standard AWS environment variables, ``~/.aws/config`` and the ``[s3]`` section of
taskloom's configuration file: see :mod:`taskloom_s3.settings`.

The public API, for code that wants the filesystem itself::

    from taskloom_s3 import read_settings, s3_filesystem
    fs = s3_filesystem()                  # the one taskloom uses, for the current environment

Names resolve on first use, so that loading the plugin's hooks imports nothing more.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["S3Settings", "SettingsError", "read_settings", "s3_filesystem"]

_WHERE = {
    "S3Settings": "taskloom_s3.settings",
    "SettingsError": "taskloom_s3.settings",
    "read_settings": "taskloom_s3.settings",
    "s3_filesystem": "taskloom_s3.filesystem",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_s3' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
