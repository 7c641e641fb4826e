#!/usr/bin/env python3
"""Startup benchmark: taskloom side by side with flytekit 1.16, printed as ratios.

Stdlib only. Run from anywhere:

    python3 benchmarks/startup.py [--repeat N] [--taskloom-python PATH]
                                  [--flytekit-venv DIR] [--json OUT]

Every timed figure is the wall time of a whole child process (``subprocess`` around
``time.perf_counter``), median and min over N runs after 2 warm-up runs. The two sides
are run alternately so drift on the machine hits both equally. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
FLYTEKIT_VERSION = "1.16.31"
DEFAULT_FLYTEKIT_VENV = BENCH / ".venvs" / "flytekit-1.16"
DEFAULT_TASKLOOM_PYTHON = REPO / ".venv" / "bin" / "python"
# Shared across runs, so stevedore's entry-point cache (and any other XDG cache) is
# warm once the warm-up runs are done: we time startup, not first-run cache building.
XDG_CACHE = BENCH / ".work" / "xdg-cache"
WARMUP = 2
KERNEL_DISTRIBUTION_TARGET = 15

# Probe: modules after the import are counted before `resource` is imported, so the
# count is that of the import alone; ru_maxrss is KiB on Linux.
RSS_PROBE = (
    "import sys; import {module}; n = len(sys.modules); import resource; "
    "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


# --------------------------------------------------------------------------- closure
# This part runs inside the measured interpreter (``startup.py --closure-of DIST``), so
# it uses only what every Python >= 3.8 has, plus `packaging` when it is importable.


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_environment() -> dict:
    impl = sys.implementation
    iv = impl.version
    implementation_version = f"{iv.major}.{iv.minor}.{iv.micro}"
    if iv.releaselevel != "final":
        implementation_version += iv.releaselevel[0] + str(iv.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
        "extra": "",
    }


_MARKER_TOKEN = re.compile(
    r"\s*(\(|\)|'[^']*'|\"[^\"]*\"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|[A-Za-z_][A-Za-z0-9_.]*)"
)
_VERSION_VARS = {"python_version", "python_full_version", "implementation_version"}


def _version_key(value: str):
    parts = re.match(r"[0-9]+(\.[0-9]+)*", value)
    return tuple(int(p) for p in parts.group(0).split(".")) if parts else None


def _compare(left: str, op: str, right: str, as_version: bool) -> bool:
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if as_version:
        lk, rk = _version_key(left), _version_key(right)
        if lk is not None and rk is not None:
            width = max(len(lk), len(rk))
            lk, rk = lk + (0,) * (width - len(lk)), rk + (0,) * (width - len(rk))
            if op == "~=":
                return lk >= rk and lk[: len(rk) - 1] == rk[: len(rk) - 1]
            left, right = lk, rk  # type: ignore[assignment]
    ops = {
        "==": lambda a, b: a == b,
        "===": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    try:
        return ops[op](left, right)
    except (KeyError, TypeError):
        return False


def _simple_marker_true(marker: str, env: dict) -> bool:
    """A small PEP 508 marker evaluator, used only when `packaging` is not importable."""
    tokens = [re.sub(r"\s+", " ", t) for t in _MARKER_TOKEN.findall(marker)]
    pos = 0

    def value():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok[0] in "'\"":
            return tok[1:-1], False
        return str(env.get(tok, "")), tok in _VERSION_VARS

    def atom():
        nonlocal pos
        if tokens[pos] == "(":
            pos += 1
            result = expr()
            pos += 1  # ")"
            return result
        left, lver = value()
        op = tokens[pos]
        pos += 1
        right, rver = value()
        return _compare(left, op, right, lver or rver)

    def term():
        nonlocal pos
        result = atom()
        while pos < len(tokens) and tokens[pos] == "and":
            pos += 1
            result = atom() and result
        return result

    def expr():
        nonlocal pos
        result = term()
        while pos < len(tokens) and tokens[pos] == "or":
            pos += 1
            result = term() or result
        return result

    try:
        return expr()
    except IndexError:
        return True  # unparseable: count it rather than hide a dependency


def _requirement_parser():
    """(requirement string) -> (normalized name, marker applies?); ignores extras."""
    env = _marker_environment()
    try:
        from packaging.requirements import Requirement
    except ImportError:
        Requirement = None

    if Requirement is not None:

        def parse(text: str):
            req = Requirement(text)
            ok = req.marker is None or req.marker.evaluate(dict(env))
            return _normalize(req.name), ok

        return parse, "packaging"

    def parse(text: str):
        spec, _, marker = text.partition(";")
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1)
        return _normalize(name), (not marker.strip()) or _simple_marker_true(marker, env)

    return parse, "builtin"


def closure_of(root: str) -> dict:
    """Transitive requirement closure of `root` among installed distributions (root included)."""
    from importlib import metadata

    parse, evaluator = _requirement_parser()
    seen, missing, todo = set(), set(), [_normalize(root)]
    while todo:
        name = todo.pop()
        if name in seen or name in missing:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        seen.add(name)
        for text in requires:
            dep, applies = parse(text)
            if applies:
                todo.append(dep)
    installed = {_normalize(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]}
    return {
        "root": root,
        "closure": sorted(seen),
        "missing": sorted(missing),
        "installed_in_env": len(installed),
        "marker_evaluator": evaluator,
    }


# --------------------------------------------------------------------------- running


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


HELLO = REPO / "examples" / "hello.py"


def flytekit_copy(example: Path) -> Path:
    """The example with its imports rewritten to flytekit (how a user ports the other way), under .work/."""
    target = BENCH / ".work" / f"{example.stem}_flytekit.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        example.read_text().replace("from taskloom", "from flytekit").replace("import taskloom", "import flytekit")
    )
    return target


def child_env() -> dict:
    XDG_CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(XDG_CACHE)
    # Local runs are recorded (taskloom-local's execution store): into the work directory, not the
    # user's data directory.
    env.setdefault("TASKLOOM_DATA_DIR", str(BENCH / ".work" / "data"))
    # Measure what a user's machine does: cached bytecode. With PYTHONDONTWRITEBYTECODE set (some
    # sandboxes set it), editable sources would be recompiled at every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def check_runs(argv: list[str], env: dict) -> str | None:
    """Run once; None if it exits 0, else the last line of its output."""
    if not Path(argv[0]).exists():
        return f"not found: {argv[0]}"
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return last_line(proc.stderr or proc.stdout) + f" (exit {proc.returncode})"
    return None


def time_alternately(commands: dict, repeat: int, env: dict) -> dict:
    """{side: argv} -> {side: {"median": s, "min": s, "runs": [...]} or {"error": str}}."""
    result, live = {}, {}
    for side, argv in commands.items():
        error = check_runs(argv, env)  # counts as the first warm-up run
        if error:
            result[side] = {"error": error}
        else:
            live[side] = argv
    for _ in range(WARMUP - 1):
        for argv in live.values():
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = {side: [] for side in live}
    for _ in range(repeat):
        for side, argv in live.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            runs[side].append(time.perf_counter() - start)
    for side, values in runs.items():
        result[side] = {"median": statistics.median(values), "min": min(values), "runs": values}
    return result


def import_footprint(python: str, module: str, env: dict, samples: int = 3) -> dict:
    """Peak RSS (MiB, median of `samples`) and len(sys.modules) after `import module`."""
    argv = [python, "-c", RSS_PROBE.format(module=module)]
    error = check_runs(argv, env)
    if error:
        return {"error": error}
    rss, modules = [], 0
    for _ in range(samples):
        out = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        n, kib = out.split()
        modules = int(n)
        rss.append(int(kib) / 1024)
    return {"rss_mib": statistics.median(rss), "modules": modules}


def distribution_closure(python: str, root: str, env: dict) -> dict:
    argv = [python, str(Path(__file__).resolve()), "--closure-of", root]
    if not Path(python).exists():
        return {"error": f"not found: {python}"}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": last_line(proc.stderr)}
    data = json.loads(proc.stdout)
    if not data["closure"]:
        return {"error": f"{root} is not installed in {python}", **data}
    return {"count": len(data["closure"]), **data}


# --------------------------------------------------------------------------- flytekit venv


def ensure_flytekit_venv(venv: Path) -> Path:
    if str(venv).startswith("/tmp") or str(venv.resolve()).startswith("/tmp"):
        sys.exit(f"refusing venv under /tmp ({venv}): stevedore disables its entry-point cache there")
    python = venv / "bin" / "python"
    probe = "import flytekit, importlib.metadata as m; print(m.version('flytekit'))"
    if python.exists():
        proc = subprocess.run([str(python), "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if proc.returncode == 0 and proc.stdout.strip() == FLYTEKIT_VERSION:
            return python
    else:
        print(f"creating {venv}", file=sys.stderr)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"installing flytekit=={FLYTEKIT_VERSION} into {venv} (takes a few minutes)", file=sys.stderr)
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"flytekit=={FLYTEKIT_VERSION}",
    ]
    if subprocess.run(pip).returncode != 0:
        sys.exit(f"pip could not install flytekit=={FLYTEKIT_VERSION} into {venv}")
    return python


# --------------------------------------------------------------------------- report


def fmt_seconds(cell: dict) -> str:
    if "error" in cell:
        return "n/a"
    return f"{cell['median'] * 1000:.0f} ms (min {cell['min'] * 1000:.0f})"


def ratio_of(flytekit: float | None, taskloom: float | None) -> float | None:
    if flytekit is None or taskloom is None or taskloom <= 0:
        return None
    return flytekit / taskloom


def build_rows(m: dict) -> list[dict]:
    rows = []

    def timed(figure, key, target):
        tl, fk = m[key]["taskloom"], m[key]["flytekit"]
        ratio = ratio_of(fk.get("median"), tl.get("median"))
        rows.append(
            {
                "figure": figure,
                "taskloom": fmt_seconds(tl),
                "flytekit": fmt_seconds(fk),
                "ratio": ratio,
                "target": f"≥ {target}×" if target else "—",
                "met": None if ratio is None or not target else ratio >= target,
            }
        )

    def footprint(figure, field, unit):
        tl, fk = m["footprint"]["taskloom"], m["footprint"]["flytekit"]
        tv, fv = tl.get(field), fk.get(field)

        def cell(v):
            return "n/a" if v is None else (f"{v:.1f} {unit}" if isinstance(v, float) else f"{v:,}")

        rows.append(
            {
                "figure": figure,
                "taskloom": cell(tv),
                "flytekit": cell(fv),
                "ratio": ratio_of(fv, tv),
                "target": "—",
                "met": None,
            }
        )

    timed("python -c pass (reference)", "interpreter", None)
    timed('python -c "import X"', "import", 10)
    timed('python -c "from X import task, workflow"', "authoring", None)
    timed("loom --help / pyflyte --help", "help", 10)
    timed("loom run hello.py wf / pyflyte run (whole process)", "run", 8)
    footprint("peak RSS after import X", "rss_mib", "MiB")
    footprint("sys.modules after import X", "modules", "")
    tl, fk = m["distributions"]["taskloom"], m["distributions"]["flytekit"]
    tc, fc = tl.get("count"), fk.get("count")
    rows.append(
        {
            "figure": "distributions (taskloom-kernel / flytekit closure)",
            "taskloom": "n/a" if tc is None else str(tc),
            "flytekit": "n/a" if fc is None else str(fc),
            "ratio": ratio_of(fc, tc),
            "target": f"≤ {KERNEL_DISTRIBUTION_TARGET} (taskloom)",
            "met": None if tc is None else tc <= KERNEL_DISTRIBUTION_TARGET,
        }
    )
    return rows


def run_generated(python: str, name: str, source: str, arguments: list[str], env: dict) -> dict:
    """Write ``source`` as ``benchmarks/.work/<name>.py``, run it with ``python`` and ``arguments``;
    return the JSON its last stdout line holds, or ``{"error": <last stderr line>}``.
    """
    work = BENCH / ".work"
    work.mkdir(exist_ok=True)
    script = work / f"{name}.py"
    script.write_text(source)
    done = subprocess.run([python, str(script), *arguments], capture_output=True, text=True, env=env, cwd=work)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_rows(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print ``rows`` under ``header`` as a Markdown table."""
    widths = [max(len(str(row[index])) for row in (header, *rows)) for index in range(len(header))]
    for row in (header, tuple("-" * width for width in widths), *rows):
        print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + " |")


def print_table(rows: list[dict]) -> None:
    header = ["figure", "taskloom", "flytekit", "ratio", "target", "met?"]
    table = [
        [
            r["figure"],
            r["taskloom"],
            r["flytekit"],
            "n/a" if r["ratio"] is None else f"{r['ratio']:.1f}×",
            r["target"],
            "—" if r["met"] is None else ("yes" if r["met"] else "NO"),
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print(line(row))


def errors_of(m: dict) -> list[str]:
    notes = []
    for key, sides in m.items():
        for side, cell in sides.items():
            if isinstance(cell, dict) and "error" in cell:
                notes.append(f"{key} [{side}]: {cell['error']}")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure (default 15)")
    parser.add_argument(
        "--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON), help="default: <repo>/.venv/bin/python"
    )
    parser.add_argument(
        "--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV), help="default: benchmarks/.venvs/flytekit-1.16"
    )
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    parser.add_argument("--closure-of", help=argparse.SUPPRESS)  # internal: runs in the measured interpreter
    args = parser.parse_args(argv)

    if args.closure_of:
        print(json.dumps(closure_of(args.closure_of)))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    # Absolute but not resolved: a venv's bin/python is a symlink, and resolving it would leave the venv.
    tl_python = os.path.abspath(args.taskloom_python)
    if tl_python.startswith("/tmp"):
        print(f"warning: {tl_python} is under /tmp; stevedore will not cache entry points", file=sys.stderr)
    fk_python = str(ensure_flytekit_venv(Path(os.path.abspath(args.flytekit_venv))))
    loom = str(Path(tl_python).parent / "loom")
    pyflyte = str(Path(fk_python).parent / "pyflyte")
    env = child_env()

    def pair(tl_argv, fk_argv):
        return time_alternately({"taskloom": tl_argv, "flytekit": fk_argv}, args.repeat, env)

    print(f"timing {args.repeat} runs per figure after {WARMUP} warm-ups ...", file=sys.stderr)
    m = {
        "interpreter": pair([tl_python, "-c", "pass"], [fk_python, "-c", "pass"]),
        "import": pair([tl_python, "-c", "import taskloom"], [fk_python, "-c", "import flytekit"]),
        "authoring": pair(
            [tl_python, "-c", "from taskloom import task, workflow"],
            [fk_python, "-c", "from flytekit import task, workflow"],
        ),
        "help": pair([loom, "--help"], [pyflyte, "--help"]),
        "run": pair(
            [loom, "run", str(HELLO), "wf", "--name", "world"],
            [pyflyte, "run", str(flytekit_copy(HELLO)), "wf", "--name", "world"],
        ),
        "footprint": {
            "taskloom": import_footprint(tl_python, "taskloom", env),
            "flytekit": import_footprint(fk_python, "flytekit", env),
        },
        "distributions": {
            "taskloom": distribution_closure(tl_python, "taskloom-kernel", env),
            "flytekit": distribution_closure(fk_python, "flytekit", env),
        },
    }
    rows = build_rows(m)
    print_table(rows)
    notes = errors_of(m)
    if notes:
        print("\nn/a because:")
        for note in notes:
            print(f"  {note}")
    print(f"\nmedian (min) wall time of the whole process, {args.repeat} runs; ratio = flytekit / taskloom")

    if args.json:
        report = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "repeat": args.repeat,
            "warmup": WARMUP,
            "interpreters": {"taskloom": tl_python, "flytekit": fk_python},
            "xdg_cache_home": str(XDG_CACHE),
            "measurements": m,
            "rows": rows,
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
