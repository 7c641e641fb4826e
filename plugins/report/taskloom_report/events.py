"""Counting node events (the example lifecycle hook): how many nodes finished, by outcome."""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskloom.extend import NodeEvent


class NodeCounter:
    """Counts finished nodes as ``succeeded``, ``failed`` or ``cached``; safe to call from executor threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, event: NodeEvent) -> None:
        """Count one finished node."""
        outcome = "failed" if event.error is not None else "cached" if event.cached else "succeeded"
        with self._lock:
            self._counts[outcome] += 1

    def counts(self) -> dict[str, int]:
        """The counts so far, by outcome."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._counts.clear()


#: The counter the hook fills, for this process.
NODES = NodeCounter()
