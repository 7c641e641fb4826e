"""Task attempts as Pods: :class:`KubernetesPool`, a :class:`~taskloom.extend.TaskPool`.

taskloom-local's scheduler hands the pool one attempt of a task at a time (:meth:`KubernetesPool.run`). The
attempt becomes one Pod, as FlytePropeller would make it: the task's template (taskloom-flyte's serialization,
what ``loom package`` writes), its inputs written as a flyteidl ``LiteralMap`` (``inputs.pb``) under the raw
output prefix, and a Pod (:func:`~taskloom_kubernetes.pod.build_pod`) whose primary container runs the
template's ``loom-execute`` command line with the placeholders filled. The pool watches the Pod until it ends,
then reads ``outputs.pb`` back into Python values, or raises what ``error.pb`` says.

Faults end as the local executor expects them, so that its retries apply to what Flyte retries:

* a user error in the task (``error.pb``, non-recoverable) is :class:`TaskPodError`, not retried, with the
  Pod's last log lines;
* an image that cannot be pulled, a container killed for memory (``OOMKilled``), an evicted or preempted Pod, a
  Pod that exits without writing a document: :class:`RecoverablePodError`, retried;
* ``activeDeadlineSeconds`` (the task's timeout) passed: :class:`~taskloom.extend.UserTimeoutError`;
* a Pod still Pending after ``pending_timeout`` seconds: :class:`PodPendingError`, naming the Pod and its last
  condition, recoverable.

API faults are absorbed: 429 and 5xx answers and broken connections are retried with backoff; a watch whose
resourceVersion expired (410) lists the Pod again and watches from the list's version; a watch that breaks
resumes from the last version seen; a 409 on create (a create retried after its answer was lost) adopts the
Pod when it is the same attempt's.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import random
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import urllib3
from flyteidl.core import errors_pb2
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException
from taskloom.extend import (
    RAW_OUTPUT_PREFIX_ENV,
    FlyteContextManager,
    RecoverableSystemException,
    RecoverableUserException,
    SerializationSettings,
    SystemException,
    TypeEngine,
    UserException,
    UserTimeoutError,
    download,
    get_filesystem,
    is_remote,
    split_protocol,
    upload,
)
from taskloom_flyte import codec
from taskloom_local import capture_enabled, keep_log

from taskloom_kubernetes.options import (
    DEFAULT_SIZE,
    IMAGE_ENV,
    KEEP_PODS_ENV,
    KUBECONFIG_CONTEXT_ENV,
    NAMESPACE_ENV,
    PARALLELISM_ENV,
    PENDING_TIMEOUT_ENV,
    SETTINGS,
    pod_options_from_environment,
)
from taskloom_kubernetes.pod import (
    ATTEMPT_LABEL,
    EXECUTION_LABEL,
    TASK_LABEL,
    PodOptions,
    build_pod,
    label_value,
    pod_name,
    primary_container,
    with_base_template,
)

__all__ = [
    "KubernetesPool",
    "PodFailure",
    "PodPendingError",
    "RecoverablePodError",
    "RecoverableUserPodError",
    "TaskPodError",
    "default_pool",
]

#: How many of a failed Pod's last log lines the error shows.
LOG_LINES = 20
#: Lines of a Pod's log kept for its node when the run keeps its nodes' logs (the node's log keeps its last 64 KiB).
CAPTURED_LOG_LINES = 2000
#: Seconds a Pod may stay Pending (unscheduled, or its image not pulled) before its attempt fails.
PENDING_TIMEOUT = 300.0
#: Seconds an image pull may keep failing before the attempt fails (FlytePropeller's grace period: 3 minutes).
IMAGE_PULL_GRACE = 180.0
#: How long one watch request lasts before it is made again from the last resourceVersion.
WATCH_SECONDS = 60
#: How often an API call is tried when the server answers 429 or 5xx, or the connection fails, and how long
#: at most it waits between two tries (an exponential backoff with jitter, or the server's Retry-After).
API_TRIES = 8
LONGEST_BACKOFF = 5.0

_RETRIED_STATUSES = {429, 500, 502, 503, 504}
_PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}


class TaskPodError(UserException):
    """The task raised in its Pod (``error.pb`` says a user error); not retried. The message ends with the Pod's
    last log lines."""

    #: The traceback the task's Pod wrote in error.pb, when it wrote one.
    remote_traceback: str = ""


class RecoverableUserPodError(RecoverableUserException):
    """The task raised a recoverable error in its Pod; retried."""

    #: The traceback the task's Pod wrote in error.pb, when it wrote one.
    remote_traceback: str = ""


class RecoverablePodError(RecoverableSystemException):
    """The Pod failed for a reason a retry can cure: image pull, OOMKilled, eviction, preemption, a container
    that ended without a result document, an API server that kept failing."""

    #: The traceback the task's Pod wrote in error.pb, when it wrote one.
    remote_traceback: str = ""


class PodPendingError(RecoverablePodError):
    """The Pod stayed Pending past the pending timeout (unschedulable, or its image never came)."""


class PodFailure(SystemException):
    """The Pod cannot run as made (a secret it names does not exist, an invalid manifest); not retried."""

    #: The traceback the task's Pod wrote in error.pb, when it wrote one.
    remote_traceback: str = ""


class KubernetesPool:
    """Runs each task attempt as a Pod of a Kubernetes cluster, for taskloom-local's scheduler.

    ``namespace`` (default: the kubeconfig context's, else ``default``), ``image`` (the image of tasks that name
    none; default: ``$TASKLOOM_K8S_IMAGE``, else the kernel's default image), ``raw_output_prefix`` (where inputs,
    outputs and checkpoints live, reachable by the Pods: ``s3://bucket/runs``; default
    ``$TASKLOOM_RAW_OUTPUT_PREFIX``), ``keep_pods`` (leave finished Pods for inspection; default: deleted),
    ``size`` (Pods at once), ``kubeconfig`` and ``context`` (default: ``$KUBECONFIG``, in-cluster configuration
    when there is none), ``options`` (:class:`~taskloom_kubernetes.pod.PodOptions`), ``pending_timeout`` and
    ``image_pull_grace`` in seconds.
    """

    def __init__(
        self,
        *,
        namespace: str | None = None,
        image: str | None = None,
        raw_output_prefix: str | None = None,
        keep_pods: bool | None = None,
        size: int = DEFAULT_SIZE,
        kubeconfig: str | None = None,
        context: str | None = None,
        options: PodOptions | None = None,
        pending_timeout: float | None = None,
        image_pull_grace: float = IMAGE_PULL_GRACE,
    ) -> None:
        configuration = k8s_client.Configuration()
        context = context or os.environ.get(KUBECONFIG_CONTEXT_ENV) or None
        default_namespace = "default"
        if kubeconfig or os.environ.get("KUBECONFIG") or os.path.exists(os.path.expanduser("~/.kube/config")):
            k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
            _, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
            if context is None:
                default_namespace = active.get("context", {}).get("namespace") or "default"
        else:
            k8s_config.load_incluster_config(client_configuration=configuration)
        self._api = k8s_client.CoreV1Api(k8s_client.ApiClient(configuration))
        given = options or pod_options_from_environment()
        self.namespace = (
            namespace
            or os.environ.get(NAMESPACE_ENV)
            or (given.namespace if options is not None else default_namespace)
        )
        self.options = PodOptions(**{**given.__dict__, "namespace": self.namespace})
        self.image = image or os.environ.get(IMAGE_ENV) or None
        self.raw_output_prefix = raw_output_prefix
        if keep_pods is None:
            keep_pods = os.environ.get(KEEP_PODS_ENV, "").lower() in ("1", "true", "yes")
        self.keep_pods = keep_pods
        self._size = size
        if pending_timeout is None:
            pending_timeout = float(os.environ.get(PENDING_TIMEOUT_ENV) or PENDING_TIMEOUT)
        self.pending_timeout = pending_timeout
        self.image_pull_grace = image_pull_grace
        self._templates: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self._running: dict[str, threading.Event] = {}  # Pod name -> set when the run is killed
        self._checkpoints: dict[str, str] = {}  # a node's prefix -> the checkpoint of its last attempt
        self._pod_templates: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def size(self) -> int:
        """How many Pods run at once (the local executor's scheduling threads)."""
        return self._size

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # --- the TaskPool protocol ------------------------------------------------------------------------

    def run(
        self, entity: Any, inputs: dict[str, Any], *, timeout: Any = None, explain: str | None = None, **context: Any
    ) -> Any:
        """Run one attempt of ``entity`` with ``inputs`` as a Pod; return what ``entity.run`` returns.

        ``context`` holds ``execution_id``, ``attempt`` and ``checkpoint`` (the node's; its path tells the node
        apart across attempts). Raises the errors of the module's docs.
        """
        if self._closed:
            raise SystemException(f"task {entity.name!r}: the Kubernetes pool is closed")
        template = self._template(entity)
        execution = str(context.get("execution_id") or "local")
        attempt = int(context.get("attempt") or 0)
        node = _node_key(context.get("checkpoint"), entity.name)
        base = self._base_prefix(entity)
        node_prefix = f"{base}/{label_value(execution) or 'execution'}/{node}"
        # Every Pod its own prefix: a resumed execution runs a node's attempt again, and must not read the
        # documents of the run it resumes. The previous attempt's checkpoint is the one this process last gave.
        token = uuid.uuid4().hex[:8]
        prefix = f"{node_prefix}/{attempt}-{token}"
        with self._lock:
            previous = self._checkpoints.get(node_prefix, "") if attempt > 0 else ""
            self._checkpoints[node_prefix] = f"{prefix}/checkpoint"
        interface = entity.python_interface
        literals = TypeEngine.dict_to_literal_map(
            FlyteContextManager.current_context(), inputs, dict(interface.inputs), entity=f"task {entity.name!r}"
        )
        _write(f"{prefix}/inputs.pb", codec.literal_map_to_bytes(literals))
        places = {
            "{{.input}}": f"{prefix}/inputs.pb",
            "{{.outputPrefix}}": prefix,
            "{{.rawOutputDataPrefix}}": f"{prefix}/raw",
            "{{.checkpointOutputPrefix}}": f"{prefix}/checkpoint",
            "{{.prevCheckpointPrefix}}": previous,
        }
        args = [_fill(arg, places) for arg in _args(template)]
        seconds = None if timeout is None else max(1, round(timeout.total_seconds()))
        name = pod_name(execution, entity.name, node, attempt, token)
        environment = {
            "FLYTE_INTERNAL_EXECUTION_PROJECT": template.id.project,
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": template.id.domain,
            "FLYTE_INTERNAL_EXECUTION_ID": execution,
            "FLYTE_INTERNAL_TASK_PROJECT": template.id.project,
            "FLYTE_INTERNAL_TASK_DOMAIN": template.id.domain,
            "FLYTE_INTERNAL_TASK_NAME": template.id.name,
            "FLYTE_INTERNAL_TASK_VERSION": template.id.version,
            "FLYTE_ATTEMPT_NUMBER": str(attempt),
        }
        manifest = build_pod(
            template,
            name=name,
            args=args,
            env=environment,
            options=self.options,
            execution=execution,
            attempt=attempt,
            timeout_seconds=seconds,
        )
        base_name = template.metadata.pod_template_name
        if base_name:
            primary = primary_container(manifest, template)["name"]
            manifest = with_base_template(manifest, self._pod_template(entity.name, base_name), primary)
        killed = threading.Event()
        capture = capture_enabled()
        with self._lock:
            self._running[name] = killed
        try:
            self._create(entity.name, manifest)
            primary = primary_container(manifest, template)["name"]
            final = self._wait(entity.name, name, killed, primary)
            if capture:  # the run keeps its nodes' logs (loom run --report): the Pod's, before it is deleted
                text = self._log_tail(name, CAPTURED_LOG_LINES)
                if text:
                    keep_log(text + "\n")
            return self._outcome(entity, name, final, prefix, seconds, timeout, primary)
        finally:
            with self._lock:
                self._running.pop(name, None)
            if not self.keep_pods or killed.is_set():
                self._delete(name)

    def run_many(
        self, entity: Any, inputs: Sequence[dict[str, Any]], checkpoints: Sequence[Any], **context: Any
    ) -> list[Any]:
        """One Pod per element, one after another; per element its outputs by name, or the exception it raised.

        The local executor runs as many batches at once as the map's concurrency allows (its lanes), so elements
        one after another within a batch keep the map's ``concurrency`` as the number of Pods at once; and one
        Pod per element, as Flyte's array plugin makes them, keeps an element's OOM or eviction its own.
        """
        results: list[Any] = []
        for values, checkpoint in zip(inputs, checkpoints, strict=True):
            try:
                result = self.run(entity, values, checkpoint=checkpoint, **context)
                results.append(entity.python_interface.outputs_by_name(result))
            except Exception as error:
                results.append(error)
        return results

    def kill(self) -> None:
        """Stop what runs now (Ctrl-C, SIGTERM): every running attempt's Pod is deleted and the attempt fails."""
        with self._lock:
            running = dict(self._running)
        for name, killed in running.items():
            killed.set()
            self._delete(name)

    def close(self) -> None:
        """Delete the Pods still running; the pool is not used afterwards."""
        if self._closed:
            return
        self.kill()
        self._closed = True

    # --- templates and storage --------------------------------------------------------------------

    def _template(self, entity: Any) -> Any:
        template = self._templates.get(entity)
        if template is None:
            settings = SerializationSettings(project="taskloom", domain="development", version="local")
            if self.image:
                settings = SerializationSettings(
                    project="taskloom", domain="development", version="local", default_image=self.image
                )
            template = entity.to_task_template(settings)
            if not _args(template):
                raise SystemException(
                    f"task {entity.name!r} cannot run on Kubernetes: its template has no command line (a Pod finds "
                    "tasks by module and name, so the task must be bound to a name at the top level of a module)"
                )
            self._templates[entity] = template
        return template

    def _base_prefix(self, entity: Any) -> str:
        base = self.raw_output_prefix or os.environ.get(RAW_OUTPUT_PREFIX_ENV)
        if not base:
            raise SystemException(
                f"task {entity.name!r}: the Kubernetes executor needs a raw output prefix its Pods can reach "
                f"(--raw-output-prefix s3://bucket/prefix, ${RAW_OUTPUT_PREFIX_ENV}), got none"
            )
        return base.rstrip("/")

    # --- the API ----------------------------------------------------------------------------------

    def _call(self, what: str, task_name: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, tried again with backoff on 429, 5xx and broken connections."""
        delay = 0.05
        for attempt in range(API_TRIES):
            try:
                return function(*args, **kwargs)
            except ApiException as error:
                if error.status not in _RETRIED_STATUSES or attempt == API_TRIES - 1:
                    raise
                retry_after = (error.headers or {}).get("Retry-After") if error.headers else None
                wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
            except (urllib3.exceptions.HTTPError, OSError) as error:
                if attempt == API_TRIES - 1:
                    raise RecoverablePodError(
                        f"task {task_name!r}: {what}: the Kubernetes API server cannot be reached: {error}"
                    ) from error
                wait = delay
            time.sleep(min(LONGEST_BACKOFF, wait) * (1 + random.random() / 4))
            delay = min(LONGEST_BACKOFF, delay * 2)
        raise AssertionError("unreachable")

    def _pod_template(self, task_name: str, name: str) -> dict[str, Any]:
        """The ``template`` of the cluster's PodTemplate ``name`` in the namespace (``pod_template_name``), read
        once per pool."""
        found = self._pod_templates.get(name)
        if found is None:
            try:
                response = self._call(
                    "read PodTemplate",
                    task_name,
                    self._api.read_namespaced_pod_template,
                    name,
                    self.namespace,
                    _preload_content=False,
                )
            except ApiException as error:
                raise PodFailure(
                    f"task {task_name!r}: pod_template_name {name!r}: no such PodTemplate in namespace "
                    f"{self.namespace!r} ({_api_message(error)})"
                ) from error
            found = self._pod_templates[name] = dict(json.loads(response.data).get("template") or {})
        return found

    def _create(self, task_name: str, manifest: dict[str, Any]) -> None:
        name = manifest["metadata"]["name"]
        try:
            self._call("create Pod", task_name, self._api.create_namespaced_pod, self.namespace, manifest)
        except ApiException as error:
            if error.status == 409:  # a create retried after its answer was lost, or a name taken by another
                existing = self._read(task_name, name)
                labels = (existing or {}).get("metadata", {}).get("labels", {})
                ours = manifest["metadata"]["labels"]
                if all(labels.get(key) == ours[key] for key in (EXECUTION_LABEL, ATTEMPT_LABEL, TASK_LABEL)):
                    return  # the name holds this attempt's own token: the Pod is the one this call created
            raise PodFailure(
                f"task {task_name!r}: Pod {self.namespace}/{name} could not be created: {_api_message(error)}"
            ) from error

    def _read(self, task_name: str, name: str) -> dict[str, Any] | None:
        try:
            response = self._call(
                "read Pod", task_name, self._api.read_namespaced_pod, name, self.namespace, _preload_content=False
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(json.loads(response.data))

    def _delete(self, name: str) -> None:
        try:
            self._call(
                "delete Pod",
                name,
                self._api.delete_namespaced_pod,
                name,
                self.namespace,
                body=k8s_client.V1DeleteOptions(grace_period_seconds=0, propagation_policy="Background"),
                _preload_content=False,
            )
        except ApiException as error:
            if error.status != 404:
                raise
        except RecoverablePodError:
            pass  # the server is gone: nothing more can be done from here

    def _log_tail(self, name: str, lines: int = LOG_LINES) -> str:
        try:
            response = self._call(
                "read log",
                name,
                self._api.read_namespaced_pod_log,
                name,
                self.namespace,
                tail_lines=lines,
                _preload_content=False,
            )
        except (ApiException, RecoverablePodError):
            return ""
        return str(response.data.decode("utf-8", "replace")).rstrip()

    def _wait(self, task_name: str, name: str, killed: threading.Event, primary: str) -> dict[str, Any]:
        """Watch the Pod ``name`` until it ends, or its container ``primary`` does (sidecars may run on, as with
        FlytePropeller's sidecar tasks); its last state. Pending too long or failing to pull raise."""
        selector = f"metadata.name={name}"
        version: str | None = None
        pod: dict[str, Any] | None = None
        created = time.monotonic()
        pull_failing_since: float | None = None
        while True:
            if killed.is_set():
                raise RecoverablePodError(f"task {task_name!r}: Pod {self.namespace}/{name} was deleted (interrupted)")
            if version is None:  # a list gives the state now and the version to watch from
                listing = json.loads(
                    self._call(
                        "list Pods",
                        task_name,
                        self._api.list_namespaced_pod,
                        self.namespace,
                        field_selector=selector,
                        _preload_content=False,
                    ).data
                )
                version = listing["metadata"]["resourceVersion"]
                items = listing.get("items", [])
                if not items:
                    raise RecoverablePodError(
                        f"task {task_name!r}: Pod {self.namespace}/{name} disappeared (deleted by someone else)"
                    )
                pod = items[0]
            assert pod is not None
            if _finished(pod, primary):
                return pod
            pull_failing_since = self._check_pending(task_name, name, pod, created, pull_failing_since)
            seconds = WATCH_SECONDS
            if _phase(pod) == "Pending":  # wake up in time to tell a Pod pending too long
                seconds = max(1, min(seconds, int(self.pending_timeout - (time.monotonic() - created)) + 1))
            watcher = k8s_watch.Watch()
            try:
                for event in watcher.stream(
                    self._api.list_namespaced_pod,
                    self.namespace,
                    field_selector=selector,
                    resource_version=version,
                    timeout_seconds=seconds,
                    allow_watch_bookmarks=True,
                    # Not deserialize=False: kubernetes 37's Watch then fails on ERROR events (KeyError
                    # 'raw_object') instead of raising the 410 that says the version expired.
                ):
                    kind = event.get("type")
                    item = event.get("raw_object") or {}
                    version = item.get("metadata", {}).get("resourceVersion") or version
                    if kind == "BOOKMARK":
                        continue
                    if kind == "DELETED":
                        if killed.is_set():
                            break
                        raise RecoverablePodError(
                            f"task {task_name!r}: Pod {self.namespace}/{name} was deleted before it finished"
                        )
                    pod = item
                    if _finished(pod, primary):
                        watcher.stop()
                        return pod
                    pull_failing_since = self._check_pending(task_name, name, pod, created, pull_failing_since)
            except ApiException as error:
                if error.status == 410:  # the version expired: list again, watch from the list's version
                    version = None
                    continue
                if error.status in _RETRIED_STATUSES:
                    time.sleep(0.05)
                    continue
                raise
            except (urllib3.exceptions.HTTPError, OSError):
                # The connection broke: watch again from the last version seen.
                time.sleep(0.05)
                continue
            finally:
                watcher.stop()

    def _check_pending(
        self, task_name: str, name: str, pod: dict[str, Any], created: float, pull_failing_since: float | None
    ) -> float | None:
        if _phase(pod) != "Pending":
            return None
        waiting = _waiting(pod)
        now = time.monotonic()
        if waiting.get("reason") in _PULL_REASONS:
            pull_failing_since = pull_failing_since or now
            if now - pull_failing_since >= self.image_pull_grace:
                raise RecoverablePodError(
                    f"task {task_name!r}: Pod {self.namespace}/{name}: its image cannot be pulled: "
                    f"{waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": ")
                )
        elif (
            waiting.get("reason") in ("CreateContainerConfigError", "CreateContainerError")
            and now - created >= self.image_pull_grace
        ):
            raise PodFailure(
                f"task {task_name!r}: Pod {self.namespace}/{name} cannot start its container: "
                f"{waiting.get('reason')}: {waiting.get('message', '')}"
            )
        if now - created >= self.pending_timeout:
            raise PodPendingError(
                f"task {task_name!r}: Pod {self.namespace}/{name} still Pending after {self.pending_timeout:g}s; "
                f"last: {_last_condition(pod)}"
            )
        return pull_failing_since

    # --- outcomes ---------------------------------------------------------------------------------

    def _outcome(
        self,
        entity: Any,
        name: str,
        pod: dict[str, Any],
        prefix: str,
        seconds: int | None,
        timeout: Any,
        primary: str,
    ) -> Any:
        where = f"Pod {self.namespace}/{name}"
        task = f"task {entity.name!r}"
        error = _read_error(f"{prefix}/error.pb")
        if error is not None:
            # error.pb holds the task's traceback in the Pod; the error says its last line (the exception) and
            # keeps the whole of it as ``remote_traceback``, as a traceback is shown only on request.
            message = f"{task} failed in {where}: {_exception_line(error.message) or error.code}"
            tail = self._log_tail(name)
            if tail:
                message += f"\n--- last lines of the log of {where} ---\n{tail}"
            recoverable = error.kind == 1  # flyteidl ContainerError.RECOVERABLE
            user = error.origin == 1  # flyteidl ExecutionError.USER
            kind: type[TaskPodError | RecoverableUserPodError | RecoverablePodError | PodFailure]
            if recoverable:
                kind = RecoverableUserPodError if user else RecoverablePodError
            else:
                kind = TaskPodError if user else PodFailure
            failure = kind(message)
            failure.remote_traceback = error.message
            raise failure
        phase = _phase(pod)
        status = pod.get("status", {})
        terminated = _terminated(pod, primary)
        if phase == "Succeeded" or (phase == "Running" and terminated.get("exitCode") == 0):
            return self._outputs(entity, prefix, where)  # Running: the task's container ended, a sidecar did not
        reason = status.get("reason", "")
        if reason == "DeadlineExceeded":
            raise UserTimeoutError(
                f"{task} did not finish within its timeout of {timeout} ({where} passed activeDeadlineSeconds={seconds})"
            )
        tail = self._log_tail(name)
        detail = f"\n--- last lines of the log of {where} ---\n{tail}" if tail else ""
        if reason in ("Evicted", "Preempted", "Shutdown", "Terminated", "NodeLost") or reason.startswith("Preempt"):
            raise RecoverablePodError(f"{task}: {where} {reason.lower()}: {status.get('message', '')}{detail}")
        if terminated.get("reason") == "OOMKilled":
            raise RecoverablePodError(f"{task}: {where} was killed for lack of memory (OOMKilled){detail}")
        code = terminated.get("exitCode")
        raise RecoverablePodError(
            f"{task}: {where} ended {phase} (exit code {code}, {terminated.get('reason') or reason or 'no reason'}) "
            f"without a result document{detail}"
        )

    def _outputs(self, entity: Any, prefix: str, where: str) -> Any:
        interface = entity.python_interface
        types = dict(interface.outputs)
        if not types:
            return interface.shape_outputs({})
        uri = f"{prefix}/outputs.pb"
        data = _read(uri)
        if data is None:
            raise RecoverablePodError(f"task {entity.name!r}: {where} succeeded without writing {uri}")
        literals = codec.literal_map_from_bytes(data, source=uri)
        values = TypeEngine.literal_map_to_kwargs(
            FlyteContextManager.current_context(),
            literals,
            types,
            entity=f"task {entity.name!r}",
            direction="output",
        )
        return interface.shape_outputs(values)


def _args(template: Any) -> tuple[str, ...]:
    if template.container is not None:
        return tuple(template.container.args)
    if template.k8s_pod is not None:
        primary = template.k8s_pod.primary_container_name or "primary"
        for container in template.k8s_pod.pod_spec.get("containers", []):
            if container.get("name") == primary:
                return tuple(container.get("args", ()))
    return ()


def _fill(arg: str, places: dict[str, str]) -> str:
    # FlytePropeller replaces the placeholders anywhere in an argument (a template engine, not whole arguments).
    for place, value in places.items():
        if place in arg:
            arg = arg.replace(place, value)
    return arg


def _node_key(checkpoint: Any, task_name: str) -> str:
    """A name for the node that is the same for every attempt: the local executor gives each node one
    checkpoint, whose path tells the node apart; without one, every attempt is a node of its own."""
    path = getattr(checkpoint, "path", None)
    seed = str(path) if path else uuid.uuid4().hex
    return hashlib.sha256(f"{task_name}\0{seed}".encode()).hexdigest()[:16]


def _exception_line(text: str) -> str:
    """The ``Type: message`` line of a formatted traceback (the first line after its last indented frame line,
    before any notes), or the text's first line when it holds no traceback."""
    lines = [line for line in text.splitlines() if line.strip()]
    frames = [index for index, line in enumerate(lines) if line.startswith((" ", "\t"))]
    if not frames or frames[-1] + 1 >= len(lines):
        return lines[0].strip() if lines else ""
    return lines[frames[-1] + 1].strip()


def _phase(pod: dict[str, Any]) -> str:
    return str(pod.get("status", {}).get("phase") or "Pending")


def _finished(pod: dict[str, Any], primary: str) -> bool:
    if _phase(pod) in ("Succeeded", "Failed"):
        return True
    return any(
        status.get("name") == primary and (status.get("state") or {}).get("terminated") for status in _statuses(pod)
    )


def _statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod.get("status", {}).get("containerStatuses") or [])


def _waiting(pod: dict[str, Any]) -> dict[str, Any]:
    for status in _statuses(pod):
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return dict(waiting)
    return {}


def _terminated(pod: dict[str, Any], primary: str) -> dict[str, Any]:
    """How the task's container ``primary`` ended (exit code, reason), or {} while it has not."""
    for status in _statuses(pod):
        terminated = (status.get("state") or {}).get("terminated")
        if terminated and status.get("name") == primary:
            return dict(terminated)
    return {}


def _last_condition(pod: dict[str, Any]) -> str:
    waiting = _waiting(pod)
    if waiting.get("reason"):
        return f"container waiting: {waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
    conditions = [item for item in pod.get("status", {}).get("conditions") or [] if item.get("status") != "True"]
    if conditions:
        last = conditions[-1]
        return f"{last.get('type')} {last.get('status')}: {last.get('reason', '')}: {last.get('message', '')}"
    return "no condition reported (the Pod was never scheduled)"


def _api_message(error: ApiException) -> str:
    try:
        return f"{error.status} {json.loads(error.body or '')['message']}"
    except (TypeError, ValueError, KeyError):
        return f"{error.status} {error.reason}"


def _write(uri: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="taskloom-k8s-") as directory:
        local = os.path.join(directory, "object")
        with open(local, "wb") as handle:
            handle.write(data)
        if not is_remote(uri):
            os.makedirs(os.path.dirname(uri), exist_ok=True)
        upload(local, uri)


def _read(uri: str) -> bytes | None:
    """The object at ``uri``, or None when there is none (a Pod that wrote outputs.pb wrote no error.pb); an
    error of the storage itself (credentials, an unreachable server) is raised as it is, naming the URI."""
    if not get_filesystem(split_protocol(uri)[0]).exists(uri):
        return None
    with tempfile.TemporaryDirectory(prefix="taskloom-k8s-") as directory:
        local = os.path.join(directory, "object")
        download(uri, local)
        with open(local, "rb") as handle:
            return handle.read()


def _read_error(uri: str) -> Any:
    data = _read(uri)
    if data is None:
        return None
    document = errors_pb2.ErrorDocument()
    document.ParseFromString(data)
    return document.error


_defaults: dict[tuple[str, ...], KubernetesPool] = {}
_defaults_lock = threading.Lock()


def default_pool() -> KubernetesPool:
    """The pool of ``--executor kubernetes`` in this process, made from the ``TASKLOOM_K8S_*`` variables (and
    ``KUBECONFIG``) on first use and again when they change; its running Pods are deleted at exit."""
    key = tuple(os.environ.get(name, "") for name in SETTINGS)
    with _defaults_lock:
        pool = _defaults.get(key)
        if pool is None or pool.closed:
            size = int(os.environ.get(PARALLELISM_ENV) or DEFAULT_SIZE)
            pool = _defaults[key] = KubernetesPool(size=size)
            atexit.register(pool.close)
        return pool
