"""Import cost with the standard plugins installed."""

from __future__ import annotations

from tests.kernel.distributions import run_python
from tests.kernel.test_import_discipline import heavy_modules


def test_converting_values_with_the_standard_plugins_imports_nothing_heavy():
    result = run_python(
        """
        import json, sys
        from taskloom import TypeEngine
        TypeEngine.to_literal(None, [1, 2], list[int])
        TypeEngine.to_literal(None, {"a": 1}, dict)
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert heavy_modules(result) == []


# The literal contracts are attrs classes (~30 ms to import with attrs itself): `loom run` of a small
# workflow should pay for neither. Types are checked at declaration without literal types, values at
# run time with the transformers' fast tests, and the execution store keeps plain values as they are.
CONTRACTS = """
    import atexit, dataclasses, enum, json, sys
    from taskloom import FlyteFile, task, workflow

    def loaded():
        return sorted(name for name in sys.modules if name.split(".")[0] in ("attr", "attrs", "cattrs")
                      or name == "taskloom.models" or name.startswith("taskloom.models."))
"""


def test_declaring_tasks_and_workflows_imports_neither_the_contracts_nor_attrs():
    code = (
        CONTRACTS
        + """
    class Colour(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class Point:
        x: int
        y: list[float]

    @task
    def measure(rows: list[int], label: str | None, scale: dict[str, float], colour: Colour, at: Point) -> int:
        return len(rows)

    @task
    def describe(n: int, report: FlyteFile, note: str | None = None) -> tuple[int, str]:
        return n, str(report)

    @workflow
    def pipeline(rows: list[int], colour: Colour, at: Point, report: FlyteFile, label: str | None = None) -> str:
        n = measure(rows=rows, label=label, scale={"a": 1.0, "b": 2}, colour=colour, at=at)
        return describe(n=n, report=report)[1]

    print(json.dumps(loaded()))
    """
    )
    assert run_python(code) == []


def test_running_a_workflow_locally_and_recording_it_imports_neither_the_contracts_nor_attrs(tmp_path):
    # Printed at exit, once the execution store has written the run (the store's flush at exit is
    # registered later, so it runs first).
    code = (
        CONTRACTS
        + """
    @task
    def double(n: int, times: int = 2) -> int:
        return n * times

    @task
    def total(values: list[int], weights: dict[str, float] | None = None) -> float:
        return float(sum(values))

    @workflow
    def pipeline(n: int) -> float:
        return total(values=[double(n=n), double(n=n, times=3)], weights={"a": 1.0})

    atexit.register(lambda: print(json.dumps({"result": result, "loaded": loaded()})))
    result = pipeline(n=2)
    """
    )
    result = run_python(code, env={"TASKLOOM_DATA_DIR": str(tmp_path)})
    assert result == {"result": 10.0, "loaded": []}
    assert list((tmp_path / "executions").iterdir())  # the run was recorded
