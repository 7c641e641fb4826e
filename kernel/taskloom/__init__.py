"""taskloom: typed tasks and workflows that run locally, at scale, or on a Flyte cluster.

``import taskloom`` imports nothing else: every public name is resolved on first access. Names of
the kernel come from the kernel's modules; names added by plugins (``map_task``, ``dynamic``...) come
from entry-point metadata and import only the plugin that provides them. A name whose plugin is not
installed raises an ImportError naming the distribution to install.
"""

from __future__ import annotations

# No imports here, not even `typing` (~9 ms): annotations below are strings, and the block below is
# read by type checkers only (they treat a name TYPE_CHECKING as typing.TYPE_CHECKING).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from taskloom.configuration import FastSerializationSettings as FastSerializationSettings
    from taskloom.configuration import SerializationSettings as SerializationSettings
    from taskloom.core.base_task import IgnoreOutputs as IgnoreOutputs
    from taskloom.core.base_task import TaskMetadata as TaskMetadata
    from taskloom.core.cache import Cache as Cache
    from taskloom.core.condition import conditional as conditional
    from taskloom.core.context_manager import ExecutionParameters as ExecutionParameters
    from taskloom.core.context_manager import FlyteContext as FlyteContext
    from taskloom.core.context_manager import FlyteContextManager as FlyteContextManager
    from taskloom.core.context_manager import current_context as current_context
    from taskloom.core.context_manager import new_context as new_context
    from taskloom.core.gate import approve as approve
    from taskloom.core.gate import sleep as sleep
    from taskloom.core.gate import wait_for_input as wait_for_input
    from taskloom.core.hash import HashMethod as HashMethod
    from taskloom.core.interface import kwtypes as kwtypes
    from taskloom.core.launch_plan import LaunchPlan as LaunchPlan
    from taskloom.core.notification import Email as Email
    from taskloom.core.notification import PagerDuty as PagerDuty
    from taskloom.core.notification import Slack as Slack
    from taskloom.core.pod_template import PodTemplate as PodTemplate
    from taskloom.core.python_function_task import PythonFunctionTask as PythonFunctionTask
    from taskloom.core.python_function_task import PythonInstanceTask as PythonInstanceTask
    from taskloom.core.reference_entity import ReferenceLaunchPlan as ReferenceLaunchPlan
    from taskloom.core.reference_entity import ReferenceTask as ReferenceTask
    from taskloom.core.reference_entity import ReferenceWorkflow as ReferenceWorkflow
    from taskloom.core.reference_entity import get_reference_entity as get_reference_entity
    from taskloom.core.reference_entity import reference_launch_plan as reference_launch_plan
    from taskloom.core.reference_entity import reference_task as reference_task
    from taskloom.core.reference_entity import reference_workflow as reference_workflow
    from taskloom.core.resources import Resources as Resources
    from taskloom.core.schedule import CronSchedule as CronSchedule
    from taskloom.core.schedule import FixedRate as FixedRate
    from taskloom.core.task import task as task
    from taskloom.core.type_engine import BatchSize as BatchSize
    from taskloom.core.type_engine import SimpleTransformer as SimpleTransformer
    from taskloom.core.type_engine import TypeEngine as TypeEngine
    from taskloom.core.type_engine import TypeTransformer as TypeTransformer
    from taskloom.core.workflow import ImperativeWorkflow as ImperativeWorkflow
    from taskloom.core.workflow import Workflow as Workflow
    from taskloom.core.workflow import WorkflowFailurePolicy as WorkflowFailurePolicy
    from taskloom.core.workflow import workflow as workflow
    from taskloom.deck import DeckField as DeckField
    from taskloom.exceptions.user import TypeTransformerFailedError as TypeTransformerFailedError
    from taskloom.hookspecs import hookimpl as hookimpl
    from taskloom.models.launch_plan import Annotations as Annotations
    from taskloom.models.launch_plan import Labels as Labels
    from taskloom.models.launch_plan import WorkflowExecutionPhase as WorkflowExecutionPhase
    from taskloom.models.literals import Blob as Blob
    from taskloom.models.literals import BlobMetadata as BlobMetadata
    from taskloom.models.literals import Literal as Literal
    from taskloom.models.literals import Scalar as Scalar
    from taskloom.models.security import Secret as Secret
    from taskloom.models.types import BlobType as BlobType
    from taskloom.models.types import LiteralType as LiteralType
    from taskloom.models.types import StructuredDatasetType as StructuredDatasetType
    from taskloom.types.directory import Directory as Directory
    from taskloom.types.directory import FlyteDirectory as FlyteDirectory
    from taskloom.types.file import File as File
    from taskloom.types.file import FlyteFile as FlyteFile
    from taskloom.types.structured.handlers import StructuredDatasetFormat as StructuredDatasetFormat

__version__ = "0.1.0"

# Public names of the kernel: name -> module that defines it.
_KERNEL_NAMES: dict[str, str] = {
    "hookimpl": "taskloom.hookspecs",
    "TypeEngine": "taskloom.core.type_engine",
    "TypeTransformer": "taskloom.core.type_engine",
    "SimpleTransformer": "taskloom.core.type_engine",
    "TypeTransformerFailedError": "taskloom.exceptions.user",
    "FlyteFile": "taskloom.types.file",
    "File": "taskloom.types.file",
    "FlyteDirectory": "taskloom.types.directory",
    "Directory": "taskloom.types.directory",
    "Resources": "taskloom.core.resources",
    "Cache": "taskloom.core.cache",
    "TaskMetadata": "taskloom.core.base_task",
    "IgnoreOutputs": "taskloom.core.base_task",
    "Secret": "taskloom.models.security",
    "PodTemplate": "taskloom.core.pod_template",
    "task": "taskloom.core.task",
    "PythonFunctionTask": "taskloom.core.python_function_task",
    "PythonInstanceTask": "taskloom.core.python_function_task",
    "SerializationSettings": "taskloom.configuration",
    "FastSerializationSettings": "taskloom.configuration",
    "workflow": "taskloom.core.workflow",
    "Workflow": "taskloom.core.workflow",
    "ImperativeWorkflow": "taskloom.core.workflow",
    "kwtypes": "taskloom.core.interface",
    "reference_task": "taskloom.core.reference_entity",
    "reference_workflow": "taskloom.core.reference_entity",
    "reference_launch_plan": "taskloom.core.reference_entity",
    "ReferenceTask": "taskloom.core.reference_entity",
    "ReferenceWorkflow": "taskloom.core.reference_entity",
    "ReferenceLaunchPlan": "taskloom.core.reference_entity",
    "get_reference_entity": "taskloom.core.reference_entity",
    "current_context": "taskloom.core.context_manager",
    "conditional": "taskloom.core.condition",
    "LaunchPlan": "taskloom.core.launch_plan",
    "CronSchedule": "taskloom.core.schedule",
    "FixedRate": "taskloom.core.schedule",
    "Email": "taskloom.core.notification",
    "Slack": "taskloom.core.notification",
    "PagerDuty": "taskloom.core.notification",
    "WorkflowExecutionPhase": "taskloom.models.launch_plan",
    "Labels": "taskloom.models.launch_plan",
    "Annotations": "taskloom.models.launch_plan",
    "ExecutionParameters": "taskloom.core.context_manager",
    "WorkflowFailurePolicy": "taskloom.core.workflow",
    "sleep": "taskloom.core.gate",
    "wait_for_input": "taskloom.core.gate",
    "approve": "taskloom.core.gate",
    "FlyteContext": "taskloom.core.context_manager",
    "FlyteContextManager": "taskloom.core.context_manager",
    "new_context": "taskloom.core.context_manager",
    # Literal contracts, for custom transformers (flytekit exports them at its top level too)
    "Blob": "taskloom.models.literals",
    "BlobMetadata": "taskloom.models.literals",
    "Literal": "taskloom.models.literals",
    "Scalar": "taskloom.models.literals",
    "BlobType": "taskloom.models.types",
    "LiteralType": "taskloom.models.types",
    "HashMethod": "taskloom.core.hash",
    "BatchSize": "taskloom.core.type_engine",
    # Tables: the contract of their type and the format's name are the kernel's; StructuredDataset
    # itself and StructuredDatasetTransformerEngine come from taskloom-arrow (taskloom.names).
    "StructuredDatasetType": "taskloom.models.types",
    "StructuredDatasetFormat": "taskloom.types.structured.handlers",
    # Decks: which standard decks a task shows is the kernel's (checked by @task); Deck itself and the
    # renderers come from taskloom-report and taskloom-arrow (taskloom.names).
    "DeckField": "taskloom.deck",
}

__all__ = sorted(_KERNEL_NAMES)  # noqa: PLE0605 (a list, built from the table above)

# Subpackages and modules: answered with AttributeError at once so that `from taskloom import core`
# falls through to the import system instead of asking the plugins.
_SUBMODULES = frozenset(
    {
        "cli",
        "config",
        "configuration",
        "core",
        "deck",
        "exceptions",
        "extras",
        "hookspecs",
        "models",
        "plugins",
        "storage",
        "testing",
        "tools",
        "types",
    }
)


def __getattr__(name: str) -> Any:
    # Names added by plugins (map_task, dynamic...) are typed Any here; their plugin ships the types.
    module_name = _KERNEL_NAMES.get(name)
    if module_name is not None:
        import importlib

        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value  # a kernel name never changes: resolve it once
        return value
    if name.startswith("__") or name in _SUBMODULES:
        raise AttributeError(f"module 'taskloom' has no attribute {name!r}")

    # Not cached: the set of plugins may change (tests swap the plugin manager).
    # `import taskloom` imports nothing: the plugin machinery comes with the first plugin name asked for.
    from taskloom.plugins import get_plugin_manager

    return get_plugin_manager().resolve_name(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_KERNEL_NAMES))
