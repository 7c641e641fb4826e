"""The raw container's file protocol: inputs as files in, outputs as files out.

On a Flyte cluster a raw-container task (``ContainerTask``) runs a program that knows nothing of Flyte;
Flyte's *copilot* sidecar does the data loading its template's ``data_config`` asks for: before the
program starts it writes each input into the input directory, as a file named after the input, plus the
whole input map in one metadata file (``inputs.json``, ``inputs.yaml`` or ``inputs.pb``); after the program
exits it reads each output back from the file named after it in the output directory. Local runs do the
same here, on directories mounted into the container, so a program that works on a cluster works locally
and the other way round.

What a file holds (the same conventions as flytekit's local ``ContainerTask`` where it has one):

* ``int``, ``float``: the number as Python writes it (``str(5)``, ``repr(2.5)``); read back after
  stripping surrounding whitespace, so ``echo 5 > /var/outputs/n`` gives ``5``.
* ``bool``: ``true`` or ``false``; read back case-insensitively, and anything else is an error (flytekit
  reads every text but ``false`` as True: a typo would pass silently).
* ``str``: the text as it is, read back as it is (``echo hi`` writes ``"hi\\n"``, as flytekit reads it).
* ``datetime.datetime``: ISO 8601 (``isoformat``); ``datetime.timedelta``: ``str(delta)``
  (``1 day, 2:03:04.5``), flytekit's format both ways.
* ``FlyteFile``: the file itself; ``FlyteDirectory``: the directory with everything in it.

The metadata file maps every input's name to its value: numbers, text and booleans as themselves, dates
and durations as above, files and directories as their path *inside the container*.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from taskloom.extend import FlyteDirectory, FlyteFile, TypeTransformerFailedError, ValidationError, strip_annotated

#: The Python types a raw container's inputs and outputs may have: each has a file form above.
SCALARS: tuple[type, ...] = (bool, int, float, str, dt.datetime, dt.timedelta)

# flytekit's ContainerTask._string_to_timedelta: what str(timedelta) writes.
_TIMEDELTA = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")

#: The name of the metadata file for each format of ``ContainerTask.MetadataFormat``.
METADATA_FILES = {"JSON": "inputs.json", "YAML": "inputs.yaml", "PROTO": "inputs.pb"}


def kind_of(python_type: Any) -> type | None:
    """The file kind of ``python_type`` (one of :data:`SCALARS`, ``FlyteFile`` or ``FlyteDirectory``), or None."""
    plain = strip_annotated(python_type)
    if isinstance(plain, type):
        if issubclass(plain, FlyteFile):
            return FlyteFile
        if issubclass(plain, FlyteDirectory):
            return FlyteDirectory
        if plain in SCALARS:
            return plain
    return None


def check_types(entity: str, direction: str, types: dict[str, Any]) -> None:
    """Refuse, where the task is declared, a variable no file can carry (a list, a dataclass...)."""
    for name, python_type in types.items():
        if kind_of(python_type) is None:
            accepted = ", ".join(kind.__name__ for kind in SCALARS)
            raise ValidationError(
                f"{entity}: {direction} {name!r} has type {python_type!r}; a raw container exchanges files, so "
                f"{direction}s may be {accepted}, FlyteFile or FlyteDirectory"
            )


def text_of(value: Any) -> str:
    """The file form of a scalar value (see the module's docstring)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def write_inputs(
    directory: Path,
    inputs: dict[str, Any],
    types: dict[str, Any],
    *,
    container_directory: str,
    metadata_format: str,
) -> None:
    """Write every input into ``directory`` (mounted at ``container_directory``), then the metadata file.

    ``metadata_format`` is ``"JSON"`` or ``"YAML"``; ``"PROTO"`` needs flyteidl's protobuf messages,
    which this plugin does not depend on: the caller refuses it before the container starts.
    """
    metadata: dict[str, Any] = {}
    for name, value in inputs.items():
        kind = kind_of(types[name])
        target = directory / name
        if kind is FlyteFile:
            shutil.copyfile(os.fspath(value), target)
            metadata[name] = f"{container_directory.rstrip('/')}/{name}"
        elif kind is FlyteDirectory:
            shutil.copytree(os.fspath(value), target)
            metadata[name] = f"{container_directory.rstrip('/')}/{name}"
        else:
            text = text_of(value)
            target.write_text(text)
            metadata[name] = value if isinstance(value, (bool, int, float, str)) else text
    if metadata_format == "YAML":
        import yaml  # only tasks asking for YAML metadata need it (~15 ms to import)

        (directory / METADATA_FILES["YAML"]).write_text(yaml.safe_dump(metadata, sort_keys=True))
    else:
        (directory / METADATA_FILES["JSON"]).write_text(json.dumps(metadata, sort_keys=True))


def read_outputs(entity: str, directory: Path, types: dict[str, Any], *, container_directory: str) -> dict[str, Any]:
    """Read every output from its file in ``directory`` and check it against its type.

    A missing file, or text that is not a value of the output's type, raises
    :class:`~taskloom.extend.TypeTransformerFailedError` naming ``entity``, the output, the type
    expected and what the container wrote.
    """
    outputs: dict[str, Any] = {}
    for name, python_type in types.items():
        kind = kind_of(python_type)
        source = directory / name
        where = f"{container_directory.rstrip('/')}/{name}"
        if kind is FlyteDirectory:
            if not source.is_dir():
                raise TypeTransformerFailedError(
                    f"{entity}: output {name!r} expects a directory at {where}; the container left {_found(source)}"
                )
            outputs[name] = strip_annotated(python_type)(str(source))
            continue
        if not source.is_file():
            raise TypeTransformerFailedError(
                f"{entity}: output {name!r} expects a file at {where}; the container left {_found(source)}"
            )
        if kind is FlyteFile:
            outputs[name] = strip_annotated(python_type)(str(source))
            continue
        text = source.read_text()
        try:
            outputs[name] = _parse(text, kind)
        except ValueError:
            expected = kind.__name__ if kind is not None else repr(python_type)
            raise TypeTransformerFailedError(
                f"{entity}: output {name!r} expects {expected}, got the text {_short(text)!r} in {where}"
            ) from None
    return outputs


def _parse(text: str, kind: type | None) -> Any:
    if kind is str:
        return text
    stripped = text.strip()
    if kind is bool:
        lowered = stripped.lower()
        if lowered not in ("true", "false"):
            raise ValueError(stripped)
        return lowered == "true"
    if kind is int:
        return int(stripped)
    if kind is float:
        return float(stripped)
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(stripped)
    if kind is dt.timedelta:
        match = _TIMEDELTA.match(stripped)
        if match is None:
            raise ValueError(stripped)
        days, hours, minutes, seconds, fraction = match.groups()
        return dt.timedelta(
            days=int(days or 0),
            hours=int(hours),
            minutes=int(minutes),
            seconds=int(seconds),
            microseconds=int((fraction or "0").ljust(6, "0")),
        )
    raise ValueError(stripped)


def _found(path: Path) -> str:
    if path.is_dir():
        return "a directory"
    if path.exists():
        return "something else"
    return "nothing"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
