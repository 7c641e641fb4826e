"""A Kubernetes API server for tests: :class:`ApiServer`, which "runs" each Pod as a local subprocess.

No Kubernetes API server can be installed on the machines these tests run on, so this one speaks the API's REST
and chunked-watch protocol for exactly the calls taskloom-kubernetes makes, on 127.0.0.1, for one namespace:
read of PodTemplates (:attr:`ApiServer.pod_templates`); create, read, list (with ``fieldSelector``/``labelSelector`` equalities), watch from a ``resourceVersion``
(``?watch=true``: one JSON event per line, chunked, until ``timeoutSeconds``), read log (``tailLines``) and
delete of Pods. The real ``kubernetes`` client talks to it through the kubeconfig :meth:`ApiServer.kubeconfig`
writes.

A created Pod is Pending, then Running while its primary container's command (``command`` + ``args``) runs as a
subprocess with the Pod's environment (``value`` entries, and ``secretKeyRef`` entries from :attr:`secrets`)
over :attr:`environment` (the "image's"), in :attr:`workdir`; then Succeeded or Failed with the container status
a kubelet reports (``terminated``: exit code, ``Completed``/``Error``/``OOMKilled``). Its output is its log.
``activeDeadlineSeconds`` kills it (``DeadlineExceeded``). Deleting a Pod kills its process.

:meth:`ApiServer.fault` injects what a real server and kubelet do to a client: an HTTP status for the next
matching requests (409, 429 with ``Retry-After``, 500), a watch answered with an ``ERROR`` event 410 (expired
resourceVersion), a watch connection dropped, and Pod faults (``pull``: ``ErrImagePull``; ``oom``: the process
killed as ``OOMKilled``; ``evict``: the Pod ``Evicted``; ``preempt``: the Pod ``Preempted``; ``pending``: never
scheduled, ``Unschedulable``). :meth:`ApiServer.stop` kills every process it started.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ApiServer"]

_TEMPLATE_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/podtemplates/(?P<name>[^/]+)$")
_POD_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods(?:/(?P<name>[^/]+))?(?P<log>/log)?$")
#: How many events the server keeps for watches: a watch from an older resourceVersion is told 410 Gone.
HISTORY = 10_000


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Pod:
    def __init__(self, manifest: dict[str, Any], log_path: str) -> None:
        self.manifest = manifest
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.fault: str | None = None
        self.deleted = threading.Event()


class ApiServer:
    """A Kubernetes API server on 127.0.0.1 for one namespace whose Pods run as local subprocesses.

    ``environment`` is what every Pod's process starts from (the image's variables; default: this process's),
    ``workdir`` its working directory (the image's), ``log_directory`` where Pod logs are kept. Use as a
    context manager, or :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        log_directory: str,
        *,
        namespace: str = "default",
        environment: dict[str, str] | None = None,
        workdir: str | None = None,
    ) -> None:
        self.namespace = namespace
        self.environment = dict(os.environ if environment is None else environment)
        self.workdir = workdir or os.getcwd()
        self.log_directory = log_directory
        #: Kubernetes secrets of the namespace: name -> key -> value (what ``secretKeyRef`` reads).
        self.secrets: dict[str, dict[str, str]] = {}
        #: PodTemplate objects of the namespace, by name (what ``read_namespaced_pod_template`` gets).
        self.pod_templates: dict[str, dict[str, Any]] = {}
        #: Every request, as (method, path with query), in order.
        self.requests: list[tuple[str, str]] = []
        #: Every Pod manifest created, by name (kept after deletion).
        self.created: dict[str, dict[str, Any]] = {}
        self._pods: dict[str, _Pod] = {}
        self._events: collections.deque[tuple[int, str, dict[str, Any]]] = collections.deque(maxlen=HISTORY)
        self._version = 0
        self._lock = threading.Condition()
        self._faults: list[dict[str, Any]] = []
        self._pod_faults: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # --- lifetime -----------------------------------------------------------------------------------

    def start(self) -> ApiServer:
        """Listen on a free port of 127.0.0.1."""
        os.makedirs(self.log_directory, exist_ok=True)
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="k8s-test-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and kill every Pod process still running."""
        with self._lock:
            self._stopping = True
            pods = list(self._pods.values())
            self._lock.notify_all()
        for pod in pods:
            pod.deleted.set()
            _kill(pod.process)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "the server is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, path: str) -> str:
        """Write a kubeconfig for this server (context ``taskloom-test``, its namespace) to ``path``; return it."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "taskloom-test", "cluster": {"server": self.url}}],
            "users": [{"name": "taskloom-test", "user": {"token": "test-token"}}],
            "contexts": [
                {
                    "name": "taskloom-test",
                    "context": {"cluster": "taskloom-test", "user": "taskloom-test", "namespace": self.namespace},
                }
            ],
            "current-context": "taskloom-test",
        }
        with open(path, "w") as handle:
            json.dump(config, handle)  # JSON is YAML
        return path

    # --- faults -------------------------------------------------------------------------------------

    def fault(self, kind: str, *, method: str = "", path: str = "", times: int = 1, status: int = 0) -> None:
        """Answer the next ``times`` requests matching ``method`` (``GET``, ``POST``...; empty: any) and ``path``
        (a regular expression searched in the path and query; empty: any) with a fault:

        * ``status``: the HTTP status ``status`` with a Kubernetes ``Status`` body (429 adds ``Retry-After: 0``);
        * ``expire``: a watch answered with an ``ERROR`` event, code 410 (its resourceVersion is too old);
        * ``drop``: a watch connection broken in the middle of its first chunk;
        * ``lost``: a create carried out, then answered 500 (the answer lost on the way: a retry meets 409).
        """
        with self._lock:
            self._faults.append({"kind": kind, "method": method, "path": path, "times": times, "status": status})

    def pod_fault(self, task_label: str, kind: str) -> None:
        """The next Pod created for a task whose ``taskloom.io/task`` label ends with ``task_label`` meets
        ``kind``: ``pull``, ``oom``, ``evict``, ``preempt`` or ``pending`` (see the module's docs)."""
        with self._lock:
            self._pod_faults[task_label] = kind

    def _take_fault(self, method: str, target: str, kinds: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            for fault in self._faults:
                if fault["kind"] not in kinds or (fault["method"] and fault["method"] != method):
                    continue
                if fault["path"] and not re.search(fault["path"], target):
                    continue
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- pods ---------------------------------------------------------------------------------------

    def pods(self) -> list[dict[str, Any]]:
        """The Pods that exist now (not deleted), as the API would list them."""
        with self._lock:
            return [json.loads(json.dumps(pod.manifest)) for pod in self._pods.values()]

    def running_processes(self) -> list[int]:
        """The process ids of Pods whose process still runs."""
        with self._lock:
            return [
                pod.process.pid for pod in self._pods.values() if pod.process is not None and pod.process.poll() is None
            ]

    def _record(self, kind: str, pod: dict[str, Any]) -> None:
        # Under the lock: a new resourceVersion for the Pod, and the event for watches.
        self._version += 1
        pod["metadata"]["resourceVersion"] = str(self._version)
        self._events.append((self._version, kind, json.loads(json.dumps(pod))))
        self._lock.notify_all()

    def _update(self, name: str, change: Any) -> None:
        with self._lock:
            pod = self._pods.get(name)
            if pod is None:
                return
            change(pod.manifest)
            self._record("MODIFIED", pod.manifest)

    def create(self, manifest: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = manifest.get("metadata", {}).get("name", "")
        with self._lock:
            if name in self._pods:
                return 409, _status(409, "AlreadyExists", f'pods "{name}" already exists')
            manifest = json.loads(json.dumps(manifest))
            metadata = manifest.setdefault("metadata", {})
            metadata.update(namespace=self.namespace, uid=str(uuid.uuid4()), creationTimestamp=_now())
            manifest["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
            pod = _Pod(manifest, os.path.join(self.log_directory, f"{name}.log"))
            task = metadata.get("labels", {}).get("taskloom.io/task", "")
            for label, kind in list(self._pod_faults.items()):
                if task.endswith(label):
                    pod.fault = kind
                    del self._pod_faults[label]
                    break
            self._pods[name] = pod
            self.created[name] = json.loads(json.dumps(manifest))
            self._record("ADDED", manifest)
            answer = json.loads(json.dumps(manifest))
        threading.Thread(target=self._kubelet, args=(name, pod), name=f"k8s-test-kubelet-{name}", daemon=True).start()
        return 201, answer

    def delete(self, name: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            pod = self._pods.pop(name, None)
            if pod is None:
                return 404, _status(404, "NotFound", f'pods "{name}" not found')
            pod.deleted.set()
            pod.manifest["metadata"]["deletionTimestamp"] = _now()
            self._record("DELETED", pod.manifest)
            answer = json.loads(json.dumps(pod.manifest))
        _kill(pod.process)
        return 200, answer

    def _kubelet(self, name: str, pod: _Pod) -> None:
        """Move the Pod through its phases as a kubelet would, running its primary container's command."""
        spec = pod.manifest["spec"]
        # The container that runs a command is run; any other (a sidecar: a log shipper, a proxy) is reported
        # running beside it for as long as the Pod lives, so the Pod stays Running after the command ends, as
        # with a real sidecar.
        container = next((item for item in spec["containers"] if item.get("command") or item.get("args")), None)
        if container is None:
            container = spec["containers"][0]
        sidecars = [
            _container_status(item, state={"running": {"startedAt": _now()}}, ready=True)
            for item in spec["containers"]
            if item is not container
        ]
        image = container.get("image", "")

        def status(**values: Any) -> None:
            self._update(name, lambda manifest: manifest["status"].update(values))

        if pod.fault == "pending":
            status(
                conditions=[
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
                        "lastTransitionTime": _now(),
                    }
                ]
            )
            return
        scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": _now()}
        if pod.fault == "pull":
            waiting = {"reason": "ErrImagePull", "message": f'failed to pull image "{image}": not found'}
            status(conditions=[scheduled], containerStatuses=[_container_status(container, waiting=waiting)])
            return
        environment, missing = self._pod_environment(container)
        if missing:
            waiting = {"reason": "CreateContainerConfigError", "message": missing}
            status(conditions=[scheduled], containerStatuses=[_container_status(container, waiting=waiting)])
            return
        command = [*container.get("command", []), *container.get("args", [])]
        started = _now()
        with self._lock:
            if pod.deleted.is_set() or self._stopping:
                return
            with open(pod.log_path, "wb") as log:
                try:
                    pod.process = subprocess.Popen(
                        command,
                        cwd=self.workdir,
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                except OSError as error:
                    waiting = {"reason": "RunContainerError", "message": str(error)}
                    manifest = pod.manifest
                    manifest["status"].update(
                        phase="Failed", containerStatuses=[_container_status(container, waiting=waiting)]
                    )
                    self._record("MODIFIED", manifest)
                    return
        running = {"running": {"startedAt": started}}
        status(
            phase="Running",
            startTime=started,
            conditions=[scheduled, {"type": "Ready", "status": "True", "lastTransitionTime": started}],
            containerStatuses=[_container_status(container, state=running, ready=True), *sidecars],
        )
        deadline = spec.get("activeDeadlineSeconds")
        process = pod.process
        if pod.fault in ("oom", "evict", "preempt"):
            time.sleep(0.2)
            _kill(process)
        try:
            code = process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            _kill(process)
            code = process.wait()
            if not pod.deleted.is_set():
                status(
                    phase="Failed",
                    reason="DeadlineExceeded",
                    message=f"Pod was active on the node longer than the specified deadline ({deadline}s)",
                )
            return
        if pod.deleted.is_set():
            return
        finished = _now()
        if pod.fault in ("evict", "preempt"):
            reason, message = (
                ("Evicted", "The node was low on resource: memory.")
                if pod.fault == "evict"
                else ("Preempted", "Preempted in order to admit critical pod")
            )
            status(phase="Failed", reason=reason, message=message)
            return
        reason = "Completed" if code == 0 else "OOMKilled" if pod.fault == "oom" else "Error"
        exit_code = 137 if pod.fault == "oom" else code if code >= 0 else 128 - code
        terminated = {
            "terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished}
        }
        status(
            phase=("Succeeded" if exit_code == 0 else "Failed") if not sidecars else "Running",
            conditions=[scheduled, {"type": "Ready", "status": "False", "lastTransitionTime": finished}],
            containerStatuses=[_container_status(container, state=terminated), *sidecars],
        )

    def _pod_environment(self, container: dict[str, Any]) -> tuple[dict[str, str], str]:
        environment = dict(self.environment)
        for item in container.get("env", []):
            if "value" in item:
                environment[item["name"]] = str(item["value"])
                continue
            reference = item.get("valueFrom", {}).get("secretKeyRef")
            if reference is not None:
                value = self.secrets.get(reference["name"], {}).get(reference["key"])
                if value is None:
                    return environment, f'secret "{reference["name"]}" not found'
                environment[item["name"]] = value
        return environment, ""

    # --- reading ------------------------------------------------------------------------------------

    def read(self, name: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            pod = self._pods.get(name)
            if pod is None:
                return 404, _status(404, "NotFound", f'pods "{name}" not found')
            return 200, json.loads(json.dumps(pod.manifest))

    def log(self, name: str, tail_lines: int | None) -> tuple[int, bytes]:
        with self._lock:
            pod = self._pods.get(name)
        if pod is None:
            return 404, json.dumps(_status(404, "NotFound", f'pods "{name}" not found')).encode()
        try:
            with open(pod.log_path, "rb") as handle:
                lines = handle.read().splitlines(keepends=True)
        except FileNotFoundError:
            message = f'container "{pod.manifest["spec"]["containers"][0]["name"]}" in pod "{name}" is waiting to start'
            return 400, json.dumps(_status(400, "BadRequest", message)).encode()
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        return 200, b"".join(lines)

    def list_pods(self, selectors: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            items = [json.loads(json.dumps(pod.manifest)) for pod in self._pods.values()]
            version = str(self._version)
        return {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": version},
            "items": [item for item in items if _selected(item, selectors)],
        }

    def events_after(self, version: int, selectors: dict[str, str], until: float) -> tuple[list[Any], bool]:
        """The events newer than ``version`` that match, waiting for one until ``until``; (events, expired)."""
        with self._lock:
            while True:
                if self._events and version < self._events[0][0] - 1:
                    return [], True
                found = [
                    (number, kind, pod)
                    for number, kind, pod in self._events
                    if number > version and _selected(pod, selectors)
                ]
                if found or self._stopping:
                    return found, False
                left = until - time.monotonic()
                if left <= 0:
                    return [], False
                if version < self._version:  # newer events, none selected: go on from the newest
                    version = self._version
                self._lock.wait(left)


def _selected(pod: dict[str, Any], selectors: dict[str, str]) -> bool:
    for key, value in selectors.items():
        if key == "metadata.name":
            if pod["metadata"].get("name") != value:
                return False
        elif key == "status.phase":
            if pod.get("status", {}).get("phase") != value:
                return False
        elif pod["metadata"].get("labels", {}).get(key) != value:
            return False
    return True


def _parse_selectors(query: dict[str, list[str]]) -> dict[str, str]:
    selectors: dict[str, str] = {}
    for parameter in ("fieldSelector", "labelSelector"):
        for text in query.get(parameter, []):
            for term in filter(None, text.split(",")):
                key, _, value = term.partition("=")
                selectors[key.strip()] = value.lstrip("=").strip()
    return selectors


def _container_status(
    container: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    waiting: dict[str, Any] | None = None,
    ready: bool = False,
) -> dict[str, Any]:
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": ready,
        "restartCount": 0,
        "started": ready,
        "state": state if state is not None else {"waiting": waiting or {}},
    }


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the command and whatever it started
    process.wait()


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"  # chunked watches

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read ApiServer.requests
        pass

    def handle(self) -> None:
        # A client that goes away mid-request (a run interrupted, a watch stopped) is no error of the server's.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    def _answer(
        self, code: int, body: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        self.api.requests.append((method, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None  # read first: keep-alive
        fault = self.api._take_fault(method, self.path, ("status",))
        if fault is not None:
            headers = {"Retry-After": "0"} if fault["status"] == 429 else None
            reason = {409: "Conflict", 429: "TooManyRequests", 500: "InternalError"}.get(fault["status"], "Fault")
            self._answer(fault["status"], _status(fault["status"], reason, "injected by the test"), headers=headers)
            return
        template = _TEMPLATE_PATH.match(parsed.path)
        if template is not None and method == "GET" and template["namespace"] == self.api.namespace:
            found = self.api.pod_templates.get(template["name"])
            if found is None:
                message = f'podtemplates "{template["name"]}" not found'
                self._answer(404, _status(404, "NotFound", message))
            else:
                self._answer(200, found)
            return
        match = _POD_PATH.match(parsed.path)
        if match is None or match["namespace"] != self.api.namespace:
            self._answer(404, _status(404, "NotFound", f"the server could not find {parsed.path}"))
            return
        name = match["name"]
        if method == "POST" and name is None:
            created = self.api.create(body or {})
            if self.api._take_fault(method, self.path, ("lost",)) is not None:  # done, but the answer is lost
                self._answer(500, _status(500, "InternalError", "injected by the test after the Pod was created"))
                return
            self._answer(*created)
        elif method == "DELETE" and name is not None:
            self._answer(*self.api.delete(name))
        elif method == "GET" and match["log"]:
            tail = query.get("tailLines")
            code, text = self.api.log(name, int(tail[0]) if tail else None)
            self._answer(code, text, "text/plain" if code == 200 else "application/json")
        elif method == "GET" and name is not None:
            self._answer(*self.api.read(name))
        elif method == "GET" and query.get("watch", ["false"])[0].lower() in ("true", "1"):
            try:
                self._watch(query)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped watching: as a server sees it
                self.close_connection = True
        elif method == "GET":
            self._answer(200, self.api.list_pods(_parse_selectors(query)))
        else:
            self._answer(405, _status(405, "MethodNotAllowed", f"{method} {parsed.path}"))

    def _watch(self, query: dict[str, list[str]]) -> None:
        selectors = _parse_selectors(query)
        version = int((query.get("resourceVersion") or ["0"])[0] or 0)
        timeout = float((query.get("timeoutSeconds") or ["30"])[0])
        until = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.api._take_fault("GET", self.path, ("expire",)) is not None:
            self._chunk({"type": "ERROR", "object": _status(410, "Expired", f"too old resource version: {version}")})
            self._chunk(None)
            return
        if self.api._take_fault("GET", self.path, ("drop",)) is not None:
            # The connection breaks mid-stream (a load balancer's idle timeout, a restarted API server): half a
            # chunk, and no terminating chunk.
            self.wfile.write(b'40\r\n{"type": "MODIFIED"')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        while time.monotonic() < until:
            events, expired = self.api.events_after(version, selectors, until)
            if expired:
                message = f"too old resource version: {version}"
                self._chunk({"type": "ERROR", "object": _status(410, "Expired", message)})
                break
            for number, kind, pod in events:
                self._chunk({"type": kind, "object": pod})
                version = number
            if self.api._stopping:
                break
        self._chunk(None)

    def _chunk(self, event: dict[str, Any] | None) -> None:
        if event is None:
            self.wfile.write(b"0\r\n\r\n")
        else:
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")
