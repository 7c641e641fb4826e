"""Every public name of the kernel and the standard plugins has a docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

PACKAGES = ["taskloom", "taskloom_types"]


def public_modules():
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if info.name.startswith("taskloom.testing.strategies"):
                yield importlib.import_module(info.name)  # needs hypothesis, installed for tests
            elif not any(part.startswith("_") for part in info.name.split(".")):
                yield importlib.import_module(info.name)


def undocumented(module):
    missing = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value) or inspect.isfunction(value):
            if not (value.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(value):
                for member_name, member in vars(value).items():
                    if member_name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                        continue
                    inherited = any(member_name in vars(base) for base in value.__mro__[1:])
                    if not inherited and not (member.__doc__ or "").strip():
                        missing.append(f"{name}.{member_name}")
    return missing


@pytest.mark.parametrize("module", list(public_modules()), ids=lambda module: module.__name__)
def test_every_public_name_has_a_docstring(module):
    assert (module.__doc__ or "").strip(), f"module {module.__name__} has no docstring"
    assert undocumented(module) == []
