"""The kernel's core mechanisms: the type engine and interfaces (later: entities, promises, compiler).

Module paths mirror flytekit's ``flytekit.core`` so that imports such as
``from flytekit.core.type_engine import TypeEngine`` port by rewriting the package name.
"""
