"""A private podman for tests: its own configuration and image store, and a busybox image made here.

No image registry is reachable from the machines the tests run on, so the tests' image is built from a
root filesystem holding Debian's statically linked busybox (``busybox-static``, which ``.ci/run``
installs from ``plugins/container/debian-packages.txt`` with podman and runc) and imported with
``podman import``: no pull, no network.

The configuration is what podman needs in a root firecracker VM (the CI machines): ``runc`` (crun, podman's
default on Debian, is not installed), ``cgroupfs`` (no systemd), a file events log (no journald), and
ulimits below the VM's (podman copies the host's nproc limit into the container, which runc may not set
there: "error setting rlimit type 6: operation not permitted"). ``CONTAINERS_CONF`` and
``CONTAINERS_STORAGE_CONF`` point podman at them, and the store lives in the test session's directory,
so the user's containers and images are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: The image every test container runs (busybox's sh, cat, echo, sleep...).
BUSYBOX_IMAGE = "localhost/taskloom-test-busybox:1"

_CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
tmp_dir = "{root}/tmp"
"""

_STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{root}/storage"
runroot = "{root}/run"
"""


def configure(root: Path) -> dict[str, str]:
    """Write podman's configuration under ``root`` and return the environment variables that select it."""
    for directory in ("storage", "run", "tmp"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "containers.conf").write_text(_CONTAINERS_CONF.format(root=root))
    (root / "storage.conf").write_text(_STORAGE_CONF.format(root=root))
    return {
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
        # The tests' containers never need a network; the runtime is podman (docker has no engine here).
        "TASKLOOM_CONTAINER_RUNTIME": "podman",
        "TASKLOOM_CONTAINER_NETWORK": "none",
    }


def busybox_root(root: Path) -> Path:
    """A root filesystem with busybox and its applets (``sh``, ``cat``...) linked in ``/bin``."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    rootfs = root / "rootfs"
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    for directory in ("tmp", "var", "etc"):
        (rootfs / directory).mkdir(exist_ok=True)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    listed = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in listed:
        link = rootfs / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    return rootfs


def import_image(rootfs: Path, image: str, environment: dict[str, str]) -> None:
    """``tar -C rootfs -c . | podman import - image``."""
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    done = subprocess.run(
        ["podman", "import", "-", image],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        check=False,
    )
    assert tar.stdout is not None
    tar.stdout.close()
    tar.wait()
    if done.returncode != 0:
        raise RuntimeError(f"podman import of {rootfs} as {image} failed:\n{done.stderr}")


def containers(environment: dict[str, str]) -> list[str]:
    """The names of every container of the private podman."""
    listed = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        check=True,
    )
    return listed.stdout.split()


def reset(environment: dict[str, str]) -> None:
    """Remove every container and image of the private podman, and unmount its store (podman mounts the
    store's ``overlay`` directory on itself, which would keep the test session's directory from being removed).
    """
    subprocess.run(
        ["podman", "system", "reset", "--force"],
        capture_output=True,
        env={**os.environ, **environment},
        check=False,
    )


@contextlib.contextmanager
def private_podman() -> Iterator[dict[str, str]]:
    """A configured private podman with :data:`BUSYBOX_IMAGE` in its store, for one test session or module.

    Yields the environment variables that select it. Its directory is short and directly under the temporary
    directory, not pytest's: conmon's sockets live there, and a Unix socket's path may not exceed 107 bytes
    (under pytest-xdist's deeper ``tmp_path`` every ``podman run`` then waited 20 s for its container's exit).
    """
    root = Path(tempfile.mkdtemp(prefix="tl-podman-"))
    environment = configure(root)
    try:
        import_image(busybox_root(root), BUSYBOX_IMAGE, environment)
        yield environment
    finally:
        reset(environment)
        shutil.rmtree(root, ignore_errors=True)
