"""The hook implementations of taskloom-s3 (the entry point ``s3 = "taskloom_s3.hooks"``).

Importing this module imports neither s3fs nor botocore: they load when an ``s3://`` URI is first used.
"""

from __future__ import annotations

from typing import Any

from taskloom.extend import hookimpl

#: The URI schemes this plugin serves (kept here as well, so answering "no" imports nothing).
PROTOCOLS = ("s3", "s3a")


@hookimpl
def taskloom_filesystem(protocol: str) -> Any:
    """s3fs for ``s3://`` and ``s3a://`` URIs, configured from the AWS environment (see ``taskloom_s3.settings``)."""
    if protocol not in PROTOCOLS:
        return None
    from taskloom_s3.filesystem import s3_filesystem

    return s3_filesystem()
