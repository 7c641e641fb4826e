"""A 1 GiB file goes to SeaweedFS and back through taskloom's storage API with bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from taskloom_s3.testing import environment_with

GIB = 2**30
#: Far below the file's size: the interpreter with s3fs loaded takes ~75 MiB, the parts in flight
#: (4 of 8 MiB, and the copies botocore and aiohttp make of them) ~90 MiB more.
PEAK_RSS_LIMIT = 300 * 2**20


def make_file(path: str, size: int) -> None:
    """A sparse file of ``size`` bytes with random blocks scattered through it (fast to make, and a
    copy that lost, duplicated or reordered a part would differ)."""
    with open(path, "wb") as handle:
        handle.truncate(size)
        for offset in range(0, size, 64 * 2**20):
            handle.seek(offset + 12345)
            handle.write(os.urandom(2**20))


def same_content(first: str, second: str, block: int = 8 * 2**20) -> bool:
    with open(first, "rb") as one, open(second, "rb") as two:
        while True:
            left, right = one.read(block), two.read(block)
            if left != right:
                return False
            if not left:
                return True


@pytest.mark.slow  # writes, uploads, downloads and compares 1 GiB
def test_a_1_gib_file_is_uploaded_and_downloaded_with_bounded_memory(seaweedfs, tmp_path):
    bucket = seaweedfs.create_bucket("streaming").removeprefix("s3://")
    source, back = str(tmp_path / "big.bin"), str(tmp_path / "back" / "big.bin")
    make_file(source, GIB)
    uri = f"s3://{bucket}/runs/big.bin"
    # In a fresh interpreter, so that its peak resident size measures this copy and nothing else.
    assert sys.platform == "linux", "the peak resident size is read from /proc"
    code = textwrap.dedent(
        f"""
        import json, time
        from taskloom.storage import download, upload
        def peak():
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process that forked this one.
            with open("/proc/self/status") as status:
                line = next(line for line in status if line.startswith("VmHWM:"))
            return int(line.split()[1]) * 1024
        started, before = time.monotonic(), peak()
        upload({source!r}, {uri!r})
        uploaded, after_upload = time.monotonic(), peak()
        download({uri!r}, {back!r})
        done = time.monotonic()
        print(json.dumps({{
            "before": before, "after_upload": after_upload, "peak": peak(),
            "upload": uploaded - started, "download": done - uploaded,
        }}))
        """
    )
    environment = environment_with(seaweedfs)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    before, after_upload, peak = (figures[name] / 2**20 for name in ("before", "after_upload", "peak"))
    print(
        f"1 GiB: peak RSS {peak:.0f} MiB ({before:.0f} MiB before, {after_upload:.0f} MiB after the upload), "
        f"upload {figures['upload']:.1f} s, download {figures['download']:.1f} s"
    )
    assert figures["peak"] < PEAK_RSS_LIMIT, f"peak RSS {peak:.0f} MiB for a 1 GiB copy"
    head = seaweedfs.client().head_object(Bucket=bucket, Key="runs/big.bin")
    assert head["ContentLength"] == GIB
    assert os.path.getsize(back) == GIB and same_content(source, back)
