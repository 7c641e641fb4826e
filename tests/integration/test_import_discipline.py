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
