"""taskloom-local: the local executor (``TASKLOOM_EXECUTOR=local``, the default).

:class:`taskloom_local.executor.LocalExecutor` runs a workflow in this process as a dataflow graph:
a node starts as soon as the nodes it depends on have finished, independent nodes run concurrently
on a thread pool, retries and the failure policy are honoured.
"""

__version__ = "0.1.0"
