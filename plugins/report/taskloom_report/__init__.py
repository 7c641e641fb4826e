"""taskloom-report: decks and the execution report, what a run did as self-contained HTML.

The kernel finds the plugin through the ``taskloom.plugins`` entry point (``taskloom_report.hooks``); the
modules that build pages are imported when a command or a run asks for one.
"""

__version__ = "0.1.0"
