"""Container runtimes that run a raw container here: podman and docker, through their command lines.

Both speak the same command line for what a task needs (``run``, ``logs``, ``rm``, ``image exists`` /
``image inspect``, ``pull``, ``build``), so one class drives either; the Docker SDK for Python (which
flytekit's local ``ContainerTask`` needs) is not a dependency, and podman needs no daemon.

Which runtime runs a task is asked of the plugins (the hook ``taskloom_container_runtime``): the one
``TASKLOOM_CONTAINER_RUNTIME`` names when set; otherwise the first a plugin offers, which for this plugin is
podman when it is installed, then docker when its engine answers. Another plugin adds a runtime by answering
the hook with an object offering :class:`ContainerRuntime`'s methods. The container's network is the
runtime's default unless ``TASKLOOM_CONTAINER_NETWORK`` names one (``none`` cuts it off, as the tests do).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from taskloom.extend import SystemException, UserException, UserTimeoutError, get_container_runtime

#: Chooses the runtime by name (``podman``, ``docker``) instead of the first that works.
RUNTIME_ENV = "TASKLOOM_CONTAINER_RUNTIME"
#: The ``--network`` every container is given (``none``, ``host``...); unset: the runtime's default.
NETWORK_ENV = "TASKLOOM_CONTAINER_NETWORK"
#: How many of the container's last log lines an error shows.
LOG_LINES = 20
#: Runtimes tried in this order when none is named.
RUNTIMES = ("podman", "docker")

# Exit codes of `podman run` / `docker run` that are the runtime's, not the program's (both follow chroot's).
_RUNTIME_EXIT_CODES = {
    125: "the container runtime failed to run the container",
    126: "the command cannot be run in the image",
    127: "the command is not in the image",
}


class ContainerError(UserException):
    """A container of a task could not run, or failed: the message names the task and shows its last log lines."""


class ContainerRuntimeMissingError(SystemException):
    """No container runtime is installed or reachable: the message says what was looked for."""


class ContainerTimeoutError(UserTimeoutError):
    """A task's container ran past the task's timeout; it was stopped and removed."""


class ContainerRuntime:
    """One container runtime (``podman`` or ``docker``), driven through its command line.

    ``executable`` is the program's path. Every container :meth:`run` starts is removed afterwards,
    whatever happened (success, failure, timeout, an interrupt).
    """

    def __init__(self, name: str, executable: str) -> None:
        self.name = name
        self.executable = executable

    def __repr__(self) -> str:
        return f"ContainerRuntime({self.name!r}, {self.executable!r})"

    def image_exists(self, image: str) -> bool:
        """Whether ``image`` is in this runtime's local image store."""
        command = ["image", "exists", image] if self.name == "podman" else ["image", "inspect", image]
        return self._call(command).returncode == 0

    def ensure_image(self, entity: str, image: str) -> None:
        """Pull ``image`` when it is not here (as flytekit does); a failed pull raises :class:`ContainerError`."""
        if self.image_exists(image):
            return
        pulled = self._call(["pull", image])
        if pulled.returncode != 0:
            raise ContainerError(
                f"{entity}: image {image!r} is not in {self.name}'s image store and could not be pulled:\n"
                + _tail(pulled.stdout + pulled.stderr)
            )

    def run(
        self,
        entity: str,
        image: str,
        command: Sequence[str],
        *,
        mounts: Sequence[tuple[Path, str]] = (),
        environment: dict[str, str] | None = None,
        timeout: float | None = None,
        echo: bool = False,
    ) -> str:
        """Run ``command`` in a new container of ``image`` and return its output (stdout and stderr).

        ``mounts`` are (host directory, path in the container) pairs, mounted read-write. A non-zero
        exit raises :class:`ContainerError`, a run longer than ``timeout`` seconds
        :class:`ContainerTimeoutError`; both name ``entity`` and end with the container's last
        :data:`LOG_LINES` lines. ``echo`` prints each line as flytekit's ``local_logs`` does.
        """
        name = f"taskloom-{uuid.uuid4().hex[:12]}"
        arguments = [self.executable, "run", "--name", name, "--pull=never"]
        network = os.environ.get(NETWORK_ENV)
        if network:
            arguments.append(f"--network={network}")
        for host, inside in mounts:
            arguments += ["-v", f"{host}:{inside}:rw"]
        for key, value in sorted((environment or {}).items()):
            arguments += ["-e", f"{key}={value}"]
        arguments += [image, *command]
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
            process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                try:
                    code = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._remove(name)  # kills the container; the client then exits
                    process.wait()
                    log.seek(0)
                    raise ContainerTimeoutError(
                        f"{entity}: the container of image {image!r} ran past the task's timeout of "
                        f"{timeout:g} s and was stopped; its last lines:\n{_tail(log.read())}"
                    ) from None
            finally:
                if process.poll() is None:  # interrupted (Ctrl-C): stop the client before removing
                    process.kill()
                    process.wait()
                self._remove(name)
            log.seek(0)
            output = log.read()
        if echo:
            for line in output.splitlines():
                print(f"[Local Container] {line}")
        if code != 0:
            reason = _RUNTIME_EXIT_CODES.get(code, "the container's command failed")
            raise ContainerError(
                f"{entity}: {reason} (image {image!r}, exit code {code}); its last lines:\n{_tail(output)}"
            )
        return output

    def build(self, entity: str, image: str, context: Path) -> None:
        """Build ``context/Containerfile`` as ``image``; a failure raises :class:`ContainerError` naming
        ``entity`` with the build's last lines. The build gets the network of :data:`NETWORK_ENV`."""
        arguments = ["build", "-t", image, "-f", str(context / "Containerfile")]
        network = os.environ.get(NETWORK_ENV)
        if network:
            arguments.append(f"--network={network}")
        built = self._call([*arguments, str(context)])
        if built.returncode != 0:
            raise ContainerError(
                f"{entity}: {self.name} build of {image!r} failed (exit code {built.returncode}); its last lines:\n"
                + _tail(built.stdout + built.stderr)
            )

    def containers(self) -> list[str]:
        """The names of every container this runtime knows (running or not)."""
        listed = self._call(["ps", "-a", "--format", "{{.Names}}"])
        return listed.stdout.split()

    def _remove(self, name: str) -> None:
        # -f stops a running container first; podman's -t 0 kills it without the 10 s grace period.
        command = ["rm", "-f", "-t", "0", name] if self.name == "podman" else ["rm", "-f", name]
        self._call(command)

    def _call(self, arguments: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *arguments],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )


def find_runtime(entity: str, name: str | None = None) -> ContainerRuntime:
    """The runtime that runs ``entity``'s containers, asked of the plugins (the hook
    ``taskloom_container_runtime``, which this plugin answers with :func:`available_runtime`): the one named
    ``name``, else :data:`RUNTIME_ENV`, else the first a plugin offers.

    Raises :class:`ContainerRuntimeMissingError` naming ``entity`` and what was looked for.
    """
    wanted = name or os.environ.get(RUNTIME_ENV) or None
    runtime = get_container_runtime(wanted)
    if runtime is not None:
        return runtime
    if wanted is not None and wanted not in RUNTIMES:
        raise ContainerRuntimeMissingError(
            f"{entity}: no installed plugin offers the container runtime {wanted!r} ({RUNTIME_ENV}); "
            f"taskloom-container offers {', '.join(RUNTIMES)}"
        )
    reasons = [_unavailable(candidate) for candidate in ((wanted,) if wanted else RUNTIMES)]
    raise ContainerRuntimeMissingError(
        f"{entity}: no container runtime to run it: {'; '.join(reason for reason in reasons if reason)}. "
        "Install podman (Debian: apt-get install podman runc) or start a Docker engine"
    )


def available_runtime(name: str | None) -> ContainerRuntime | None:
    """podman or docker as this plugin offers them (the hook ``taskloom_container_runtime``): the one named,
    or the first that works (podman installed; docker installed with an engine answering); None otherwise."""
    if name is not None and name not in RUNTIMES:
        return None  # another plugin's runtime, or none
    for candidate in (name,) if name else RUNTIMES:
        if _unavailable(candidate) is None:
            return ContainerRuntime(candidate, shutil.which(candidate) or candidate)
    return None


def _unavailable(candidate: str) -> str | None:
    """Why this plugin cannot run containers with ``candidate`` here, or None when it can."""
    executable = shutil.which(candidate)
    if executable is None:
        return f"{candidate} is not installed (not on PATH)"
    if candidate == "docker":
        answer = _engine_answer(executable)
        if answer is not None:
            return f"docker's engine does not answer ({answer})"
    return None


def _engine_answer(executable: str) -> str | None:
    """None when the docker CLI reaches an engine, else why not (its last line of error)."""
    try:
        done = subprocess.run(
            [executable, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "no answer within 10 s"
    if done.returncode == 0 and done.stdout.strip():
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def _tail(text: str, lines: int = LOG_LINES) -> str:
    kept = text.rstrip("\n").splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in kept) if kept else "  | (no output)"
