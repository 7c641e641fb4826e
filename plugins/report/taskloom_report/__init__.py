"""taskloom-report: Decks and the execution report: what a run did, as self-contained HTML

Users reach its names through ``taskloom`` (``from taskloom import Money, Audited``); the kernel finds the
plugin through the ``taskloom.plugins`` entry point (``taskloom_report.hooks``).
"""
