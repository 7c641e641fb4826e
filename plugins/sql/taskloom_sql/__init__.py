"""taskloom-sql: SQL task types, whose results are tables (StructuredDataset, through taskloom-arrow).

``SQLite3Task``/``SQLite3Config`` (flytekit's ``flytekit.extras.sqlite3``), ``SQLAlchemyTask``/``SQLAlchemyConfig``
(flytekit's ``flytekitplugins.sqlalchemy``) and their base ``SQLTask``; ``DuckDBQuery``/``DuckDBProvider``
(flytekit's ``flytekitplugins.duckdb``) over tables and files. Users reach the names through ``taskloom``
(``from taskloom import SQLite3Task``) or here (``from taskloom_sql import SQLAlchemyTask``). Query inputs are
bound as parameters by the database's driver, never pasted into the SQL text (:mod:`taskloom_sql.base`).

Names resolve on first use, so that loading the plugin imports neither pyarrow nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskloom_sql.alchemy import SQLAlchemyConfig as SQLAlchemyConfig
    from taskloom_sql.alchemy import SQLAlchemyTask as SQLAlchemyTask
    from taskloom_sql.base import SQLTask as SQLTask
    from taskloom_sql.duck import DuckDBProvider as DuckDBProvider
    from taskloom_sql.duck import DuckDBQuery as DuckDBQuery
    from taskloom_sql.errors import SQLConnectionError as SQLConnectionError
    from taskloom_sql.errors import SQLTaskError as SQLTaskError
    from taskloom_sql.sqlite import SQLite3Config as SQLite3Config
    from taskloom_sql.sqlite import SQLite3Task as SQLite3Task

__version__ = "0.1.0"

__all__ = [
    "DuckDBProvider",
    "DuckDBQuery",
    "SQLAlchemyConfig",
    "SQLAlchemyTask",
    "SQLConnectionError",
    "SQLTask",
    "SQLTaskError",
    "SQLite3Config",
    "SQLite3Task",
]

_WHERE = {
    "SQLTask": "taskloom_sql.base",
    "SQLite3Task": "taskloom_sql.sqlite",
    "SQLite3Config": "taskloom_sql.sqlite",
    "SQLAlchemyTask": "taskloom_sql.alchemy",
    "SQLAlchemyConfig": "taskloom_sql.alchemy",
    "SQLTaskError": "taskloom_sql.errors",
    "SQLConnectionError": "taskloom_sql.errors",
    "DuckDBQuery": "taskloom_sql.duck",
    "DuckDBProvider": "taskloom_sql.duck",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_sql' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
