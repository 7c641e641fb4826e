"""The plugin-facing API: everything a taskloom plugin may use, in one module.

A plugin (ours or a third party's) imports ``taskloom`` (the user's names: ``task``, ``workflow``...)
and this module, nothing else of the kernel::

    from taskloom.extend import TypeTransformer, hookimpl

    TASKLOOM_API = "1.0"  # the plugin API this plugin was written for (optional)


    @hookimpl
    def taskloom_type_transformers():
        return [MyTransformer()]

Everything here is kept stable within a major :data:`API_VERSION`: a name is added with a minor
version, and removed or changed incompatibly only with a new major version. Every other kernel
module may change at any release. A plugin module that declares ``TASKLOOM_API = "M.m"`` is loaded
only by a kernel offering the same major version ``M`` and a minor version of at least ``m``;
otherwise it is reported by name (``loom plugins``) and not registered at all.

The hooks themselves, and what each argument means, are documented in :mod:`taskloom.hookspecs`
(``docs/hooks.md``). flytekit's ``flytekit.extend`` plays the same part for flytekit plugins.

Names are resolved on first use (a module ``__getattr__``), so importing this module for
``hookimpl`` does not import the type engine, the compiler or the contracts: a plugin's ``hooks.py``
stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from taskloom.plugins import PLUGIN_API

#: The version of this API, ``"major.minor"``.
API_VERSION = PLUGIN_API

if TYPE_CHECKING:
    from taskloom import models as models
    from taskloom.agents import contributed_agents as contributed_agents
    from taskloom.config import config_path as config_path
    from taskloom.config import read_config as read_config
    from taskloom.configuration import DEFAULT_IMAGE as DEFAULT_IMAGE
    from taskloom.configuration import FastSerializationSettings as FastSerializationSettings
    from taskloom.configuration import Image as Image
    from taskloom.configuration import ImageConfig as ImageConfig
    from taskloom.configuration import SerializationSettings as SerializationSettings
    from taskloom.containers import get_container_runtime as get_container_runtime
    from taskloom.core import context_manager as context_manager
    from taskloom.core.base_task import IgnoreOutputs as IgnoreOutputs
    from taskloom.core.base_task import PythonTask as PythonTask
    from taskloom.core.base_task import TaskMetadata as TaskMetadata
    from taskloom.core.checkpointer import Checkpoint as Checkpoint
    from taskloom.core.compiler import bind_arguments as bind_arguments
    from taskloom.core.compiler import create_node as create_node
    from taskloom.core.compiler import current_compilation as current_compilation
    from taskloom.core.condition import ConditionFailedError as ConditionFailedError
    from taskloom.core.context_manager import ExecutionState as ExecutionState
    from taskloom.core.context_manager import FlyteContext as FlyteContext
    from taskloom.core.context_manager import FlyteContextManager as FlyteContextManager
    from taskloom.core.context_manager import SecretsManager as SecretsManager
    from taskloom.core.context_manager import new_execution_name as new_execution_name
    from taskloom.core.data_persistence import FileAccessProvider as FileAccessProvider
    from taskloom.core.decks import deck_renderer as deck_renderer
    from taskloom.core.decks import execution_directory as execution_directory
    from taskloom.core.docstring import Docstring as Docstring
    from taskloom.core.events import SILENT as SILENT
    from taskloom.core.events import Announcer as Announcer
    from taskloom.core.events import ExecutionEvent as ExecutionEvent
    from taskloom.core.events import NodeEvent as NodeEvent
    from taskloom.core.events import listeners as listeners
    from taskloom.core.executor import PROCESSES_ENV as PROCESSES_ENV
    from taskloom.core.executor import CallHandler as CallHandler
    from taskloom.core.executor import Executor as Executor
    from taskloom.core.executor import PoolExecutor as PoolExecutor
    from taskloom.core.executor import ResumableExecutor as ResumableExecutor
    from taskloom.core.executor import Runner as Runner
    from taskloom.core.executor import TaskPool as TaskPool
    from taskloom.core.executor import current_call_handler as current_call_handler
    from taskloom.core.executor import get_executor as get_executor
    from taskloom.core.executor import get_task_pool as get_task_pool
    from taskloom.core.executor import handling_calls as handling_calls
    from taskloom.core.executor import running as running
    from taskloom.core.executor import task_runner as task_runner
    from taskloom.core.gate import Gate as Gate
    from taskloom.core.gate import GateCancelledError as GateCancelledError
    from taskloom.core.gate import Signal as Signal
    from taskloom.core.gate import SignalBoard as SignalBoard
    from taskloom.core.gate import WaitingGate as WaitingGate
    from taskloom.core.gate import send_signal as send_signal
    from taskloom.core.gate import signal_board as signal_board
    from taskloom.core.interface import Interface as Interface
    from taskloom.core.interface import is_named_tuple as is_named_tuple
    from taskloom.core.launch_plan import LaunchPlan as LaunchPlan
    from taskloom.core.node import Node as Node
    from taskloom.core.node import node_id_for as node_id_for
    from taskloom.core.node import promises_in as promises_in
    from taskloom.core.promise import START_NODE as START_NODE
    from taskloom.core.promise import Promise as Promise
    from taskloom.core.python_function_task import PythonFunctionTask as PythonFunctionTask
    from taskloom.core.python_function_task import PythonInstanceTask as PythonInstanceTask
    from taskloom.core.resources import ResourceSpec as ResourceSpec
    from taskloom.core.resources import resolve_resources as resolve_resources
    from taskloom.core.tracker import find_binding as find_binding
    from taskloom.core.type_engine import TypeEngine as TypeEngine
    from taskloom.core.type_engine import TypeTransformer as TypeTransformer
    from taskloom.core.type_engine import literal_description as literal_description
    from taskloom.core.type_engine import strip_annotated as strip_annotated
    from taskloom.core.type_engine import type_name as type_name
    from taskloom.core.type_engine import value_description as value_description
    from taskloom.core.workflow import CompiledWorkflow as CompiledWorkflow
    from taskloom.core.workflow import ImperativeWorkflow as ImperativeWorkflow
    from taskloom.core.workflow import WorkflowBase as WorkflowBase
    from taskloom.core.workflow import WorkflowFailurePolicy as WorkflowFailurePolicy
    from taskloom.core.workflow import compile_body as compile_body
    from taskloom.exceptions.base import RecoverableException as RecoverableException
    from taskloom.exceptions.base import TaskloomException as TaskloomException
    from taskloom.exceptions.eager import EagerException as EagerException
    from taskloom.exceptions.eager import eager_failure as eager_failure
    from taskloom.exceptions.system import PluginError as PluginError
    from taskloom.exceptions.system import PluginWarning as PluginWarning
    from taskloom.exceptions.system import RecoverableSystemException as RecoverableSystemException
    from taskloom.exceptions.system import StorageError as StorageError
    from taskloom.exceptions.system import SystemException as SystemException
    from taskloom.exceptions.user import DisapprovalError as DisapprovalError
    from taskloom.exceptions.user import RecoverableUserException as RecoverableUserException
    from taskloom.exceptions.user import TypeTransformerFailedError as TypeTransformerFailedError
    from taskloom.exceptions.user import UnsupportedTypeError as UnsupportedTypeError
    from taskloom.exceptions.user import UserException as UserException
    from taskloom.exceptions.user import UserTimeoutError as UserTimeoutError
    from taskloom.exceptions.user import UserTypeError as UserTypeError
    from taskloom.exceptions.user import UserValueError as UserValueError
    from taskloom.exceptions.user import ValidationError as ValidationError
    from taskloom.hookspecs import hookimpl as hookimpl
    from taskloom.hookspecs import hookspec as hookspec
    from taskloom.loader import ModuleLoadError as ModuleLoadError
    from taskloom.loader import entities_of as entities_of
    from taskloom.loader import load_module as load_module
    from taskloom.models.converter import from_json as from_json
    from taskloom.models.converter import to_json as to_json
    from taskloom.models.dynamic_job import DynamicJobSpec as DynamicJobSpec
    from taskloom.models.identifier import Identifier as Identifier
    from taskloom.models.identifier import ResourceType as ResourceType
    from taskloom.models.identifier import WorkflowExecutionIdentifier as WorkflowExecutionIdentifier
    from taskloom.models.literals import Literal as Literal
    from taskloom.models.literals import LiteralMap as LiteralMap
    from taskloom.models.literals import Scalar as Scalar
    from taskloom.models.task import TaskTemplate as TaskTemplate
    from taskloom.models.types import BlobDimensionality as BlobDimensionality
    from taskloom.models.types import LiteralType as LiteralType
    from taskloom.models.types import SimpleType as SimpleType
    from taskloom.models.types import TypeAnnotation as TypeAnnotation
    from taskloom.models.workflow import WorkflowTemplate as WorkflowTemplate
    from taskloom.plugins import get_plugin_manager as get_plugin_manager
    from taskloom.run_options import run_option as run_option
    from taskloom.storage import RAW_OUTPUT_PREFIX_ENV as RAW_OUTPUT_PREFIX_ENV
    from taskloom.storage import FileSystem as FileSystem
    from taskloom.storage import download as download
    from taskloom.storage import get_filesystem as get_filesystem
    from taskloom.storage import is_remote as is_remote
    from taskloom.storage import raw_output_prefix as raw_output_prefix
    from taskloom.storage import split_protocol as split_protocol
    from taskloom.storage import upload as upload
    from taskloom.tools.translator import get_serializable as get_serializable
    from taskloom.translator import NodeEntity as NodeEntity
    from taskloom.translator import Translator as Translator
    from taskloom.translator import dynamic_job_spec as dynamic_job_spec
    from taskloom.types.blob import BlobValue as BlobValue
    from taskloom.types.blob import offload as offload
    from taskloom.types.directory import FlyteDirectory as FlyteDirectory
    from taskloom.types.error import FlyteError as FlyteError
    from taskloom.types.file import FlyteFile as FlyteFile
    from taskloom.types.iterator import FlyteIterator as FlyteIterator
    from taskloom.types.iterator.json_iterator import JSON as JSON
    from taskloom.types.pickle import FlytePickle as FlytePickle
    from taskloom.types.structured.handlers import CSV as CSV
    from taskloom.types.structured.handlers import GENERIC_FORMAT as GENERIC_FORMAT
    from taskloom.types.structured.handlers import PARQUET as PARQUET
    from taskloom.types.structured.handlers import DataFrameHandlers as DataFrameHandlers
    from taskloom.types.structured.handlers import DuplicateHandlerError as DuplicateHandlerError
    from taskloom.types.structured.handlers import StructuredDatasetDecoder as StructuredDatasetDecoder
    from taskloom.types.structured.handlers import StructuredDatasetEncoder as StructuredDatasetEncoder

# name -> the kernel module that defines it
_NAMES: dict[str, str] = {
    # Hooks and the plugin API's version
    "hookimpl": "taskloom.hookspecs",
    "hookspec": "taskloom.hookspecs",
    # Registering a listener for one run (a report written when it ends) without a static lifecycle hook
    "get_plugin_manager": "taskloom.plugins",
    # Task types
    "PythonTask": "taskloom.core.base_task",
    "TaskMetadata": "taskloom.core.base_task",
    "IgnoreOutputs": "taskloom.core.base_task",
    "PythonFunctionTask": "taskloom.core.python_function_task",
    "PythonInstanceTask": "taskloom.core.python_function_task",
    "Interface": "taskloom.core.interface",
    "Docstring": "taskloom.core.docstring",
    "is_named_tuple": "taskloom.core.interface",
    "Checkpoint": "taskloom.core.checkpointer",
    "ResourceSpec": "taskloom.core.resources",
    "resolve_resources": "taskloom.core.resources",
    # Type transformers
    "TypeEngine": "taskloom.core.type_engine",
    "TypeTransformer": "taskloom.core.type_engine",
    "type_name": "taskloom.core.type_engine",
    "value_description": "taskloom.core.type_engine",
    "literal_description": "taskloom.core.type_engine",
    "strip_annotated": "taskloom.core.type_engine",
    "BlobValue": "taskloom.types.blob",
    "offload": "taskloom.types.blob",
    "FlyteFile": "taskloom.types.file",
    "FlyteDirectory": "taskloom.types.directory",
    "FlyteIterator": "taskloom.types.iterator",
    "JSON": "taskloom.types.iterator.json_iterator",
    "FlytePickle": "taskloom.types.pickle",
    "FlyteError": "taskloom.types.error",
    # Tables (API 1.2): handlers of dataframe libraries (taskloom_structured_dataset_handlers) and their lookup
    "StructuredDatasetEncoder": "taskloom.types.structured.handlers",
    "StructuredDatasetDecoder": "taskloom.types.structured.handlers",
    "DataFrameHandlers": "taskloom.types.structured.handlers",
    "DuplicateHandlerError": "taskloom.types.structured.handlers",
    "PARQUET": "taskloom.types.structured.handlers",
    "CSV": "taskloom.types.structured.handlers",
    "GENERIC_FORMAT": "taskloom.types.structured.handlers",
    # Workflows, nodes and promises (what executors and entity kinds walk)
    "WorkflowBase": "taskloom.core.workflow",
    "CompiledWorkflow": "taskloom.core.workflow",
    "ImperativeWorkflow": "taskloom.core.workflow",
    "WorkflowFailurePolicy": "taskloom.core.workflow",
    "compile_body": "taskloom.core.workflow",
    "LaunchPlan": "taskloom.core.launch_plan",
    "Node": "taskloom.core.node",
    "node_id_for": "taskloom.core.node",
    "promises_in": "taskloom.core.node",
    "Promise": "taskloom.core.promise",
    "START_NODE": "taskloom.core.promise",
    "bind_arguments": "taskloom.core.compiler",
    "create_node": "taskloom.core.compiler",
    "ConditionFailedError": "taskloom.core.condition",
    "current_compilation": "taskloom.core.compiler",
    "find_binding": "taskloom.core.tracker",
    "Gate": "taskloom.core.gate",
    "GateCancelledError": "taskloom.core.gate",
    "Signal": "taskloom.core.gate",
    "WaitingGate": "taskloom.core.gate",
    "SignalBoard": "taskloom.core.gate",
    "send_signal": "taskloom.core.gate",
    "signal_board": "taskloom.core.gate",
    "entities_of": "taskloom.loader",
    "load_module": "taskloom.loader",
    "ModuleLoadError": "taskloom.loader",
    "run_option": "taskloom.run_options",
    "contributed_agents": "taskloom.agents",
    # Executors
    "Executor": "taskloom.core.executor",
    "ResumableExecutor": "taskloom.core.executor",
    "Runner": "taskloom.core.executor",
    "CallHandler": "taskloom.core.executor",
    "running": "taskloom.core.executor",
    "task_runner": "taskloom.core.executor",
    "current_call_handler": "taskloom.core.executor",
    "handling_calls": "taskloom.core.executor",
    "PROCESSES_ENV": "taskloom.core.executor",
    # Task pools (where a scheduling executor runs task bodies: taskloom_task_pool) and executors by name
    "TaskPool": "taskloom.core.executor",
    "get_task_pool": "taskloom.core.executor",
    "PoolExecutor": "taskloom.core.executor",
    "get_executor": "taskloom.core.executor",
    "new_execution_name": "taskloom.core.context_manager",
    # Contexts (flytekit's names): what a running task, a transformer or a serialization sees
    "context_manager": "taskloom.core",
    "FlyteContext": "taskloom.core.context_manager",
    "FlyteContextManager": "taskloom.core.context_manager",
    "ExecutionState": "taskloom.core.context_manager",
    "SecretsManager": "taskloom.core.context_manager",
    "FileAccessProvider": "taskloom.core.data_persistence",
    # Decks: what the plugin writing them asks of the others (taskloom_deck_renderer, taskloom_execution_directory)
    "deck_renderer": "taskloom.core.decks",
    "execution_directory": "taskloom.core.decks",
    # Lifecycle events
    "ExecutionEvent": "taskloom.core.events",
    "NodeEvent": "taskloom.core.events",
    "Announcer": "taskloom.core.events",
    "listeners": "taskloom.core.events",
    "SILENT": "taskloom.core.events",
    # Storage
    "FileSystem": "taskloom.storage",
    "get_container_runtime": "taskloom.containers",
    "get_filesystem": "taskloom.storage",
    "download": "taskloom.storage",
    "upload": "taskloom.storage",
    "is_remote": "taskloom.storage",
    "split_protocol": "taskloom.storage",
    "raw_output_prefix": "taskloom.storage",
    "RAW_OUTPUT_PREFIX_ENV": "taskloom.storage",
    # Contracts (frozen attrs classes shaped after flyteidl; ``models`` is the whole package)
    "models": "taskloom",
    "to_json": "taskloom.models.converter",
    "from_json": "taskloom.models.converter",
    "Literal": "taskloom.models.literals",
    "LiteralMap": "taskloom.models.literals",
    "Scalar": "taskloom.models.literals",
    "LiteralType": "taskloom.models.types",
    "SimpleType": "taskloom.models.types",
    "BlobDimensionality": "taskloom.models.types",
    "TypeAnnotation": "taskloom.models.types",
    "Identifier": "taskloom.models.identifier",
    "ResourceType": "taskloom.models.identifier",
    "WorkflowExecutionIdentifier": "taskloom.models.identifier",
    "TaskTemplate": "taskloom.models.task",
    "WorkflowTemplate": "taskloom.models.workflow",
    "DynamicJobSpec": "taskloom.models.dynamic_job",
    # Templates: entities into contracts, and the protocol by which an entity describes its node
    "Translator": "taskloom.translator",
    "NodeEntity": "taskloom.translator",
    "dynamic_job_spec": "taskloom.translator",
    "get_serializable": "taskloom.tools.translator",
    # Settings
    "SerializationSettings": "taskloom.configuration",
    "FastSerializationSettings": "taskloom.configuration",
    "DEFAULT_IMAGE": "taskloom.configuration",
    "Image": "taskloom.configuration",
    "ImageConfig": "taskloom.configuration",
    "read_config": "taskloom.config",
    "config_path": "taskloom.config",
    # Errors (raise these or subclasses, never a bare Exception)
    "TaskloomException": "taskloom.exceptions.base",
    "RecoverableException": "taskloom.exceptions.base",
    "EagerException": "taskloom.exceptions.eager",
    "eager_failure": "taskloom.exceptions.eager",
    "UserException": "taskloom.exceptions.user",
    "UserValueError": "taskloom.exceptions.user",
    "UserTypeError": "taskloom.exceptions.user",
    "ValidationError": "taskloom.exceptions.user",
    "UserTimeoutError": "taskloom.exceptions.user",
    "DisapprovalError": "taskloom.exceptions.user",
    "RecoverableUserException": "taskloom.exceptions.user",
    "TypeTransformerFailedError": "taskloom.exceptions.user",
    "UnsupportedTypeError": "taskloom.exceptions.user",
    "SystemException": "taskloom.exceptions.system",
    "RecoverableSystemException": "taskloom.exceptions.system",
    "StorageError": "taskloom.exceptions.system",
    "PluginError": "taskloom.exceptions.system",
    "PluginWarning": "taskloom.exceptions.system",
}

__all__ = ["API_VERSION", *_NAMES]  # noqa: PLE0604 (the keys of the table above)

#: The contract modules ``models`` carries, one per flyteidl area.
_CONTRACT_MODULES = (
    "converter",
    "dynamic_job",
    "identifier",
    "interface",
    "launch_plan",
    "literals",
    "security",
    "task",
    "types",
    "workflow",
)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom.extend' has no attribute {name!r}")
    if name == "models":  # the package with every contract module imported: models.literals.Literal
        for contract_module in _CONTRACT_MODULES:
            importlib.import_module(f"taskloom.models.{contract_module}")
        value = importlib.import_module("taskloom.models")
    elif name == "context_manager":  # a module, as flytekit.extend.context_manager is
        value = importlib.import_module("taskloom.core.context_manager")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
