"""The Flyte admin client of ``loom register``: a gRPC channel (TLS, a bearer token) and the calls made on it.

Connection: ``endpoint`` is ``host:port`` (``dns:///host:port`` is accepted). TLS by default, with
the system's root certificates or those of ``ca_cert``; ``insecure`` speaks plaintext. A bearer
``token`` is sent as ``authorization: Bearer <token>`` metadata: as gRPC call credentials over TLS,
and as plain metadata over a plaintext channel (gRPC refuses call credentials there). Whether a
token may cross the network in plaintext is decided before a client is made
(:func:`taskloom_flyte.register.register_package` and ``loom register`` refuse it unless asked
twice); the client sends what it is given.

gRPC errors become taskloom's, naming the endpoint and the call: :class:`AdminAuthenticationError`
(``UNAUTHENTICATED``, ``PERMISSION_DENIED``), :class:`AdminUnavailableError` (``UNAVAILABLE``,
``DEADLINE_EXCEEDED``: a retry may succeed), else :class:`RegistrationError`. ``ALREADY_EXISTS``
on a create is not an error: the admin holds that version with the same content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import RecoverableSystemException, SystemException, UserValueError

if TYPE_CHECKING:
    import grpc

#: The environment variable holding the admin's bearer token (taskloom's: flytekit has none).
TOKEN_ENV = "TASKLOOM_ADMIN_TOKEN"
#: Seconds each admin call may take.
CALL_TIMEOUT = 60.0


class RegistrationError(SystemException):
    """The admin service failed or refused a registration call; the message names the entity and endpoint."""

    error_code = "SYSTEM:Registration"

    def __init__(self, message: str, *, endpoint: str, code: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.code = code


class AdminAuthenticationError(RegistrationError):
    """The admin service refused the credentials (gRPC ``UNAUTHENTICATED`` or ``PERMISSION_DENIED``).

    Its origin is the user (a missing or wrong token), as for flytekit's ``FlyteAuthenticationException``.
    """

    origin = "user"
    error_code = "USER:AdminAuthentication"


class AdminUnavailableError(RegistrationError, RecoverableSystemException):
    """The admin service could not be reached, or did not answer in time; a retry may succeed."""

    error_code = "SYSTEM:AdminUnavailable"


def normalize_endpoint(endpoint: str) -> str:
    """``endpoint`` as ``host:port`` (a ``dns:///`` prefix dropped); raises UserValueError for a URL or nothing."""
    endpoint = endpoint.strip()
    endpoint = endpoint.removeprefix("dns:///")  # flytekit's configuration writes it so
    if "://" in endpoint or not endpoint:
        raise UserValueError(f"Flyte admin endpoint {endpoint!r} must be host:port (for example localhost:30080)")
    return endpoint


def _channel(endpoint: str, *, insecure: bool, ca_cert: str | None, token: str | None) -> grpc.Channel:
    import grpc

    if insecure:
        return grpc.insecure_channel(endpoint)
    root_certificates = None
    if ca_cert is not None:
        try:
            with open(ca_cert, "rb") as handle:
                root_certificates = handle.read()
        except OSError as error:
            raise UserValueError(f"cannot read the CA certificate {ca_cert}: {error}") from error
    credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    if token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(endpoint, credentials)


class AdminClient:
    """The AdminService calls registration makes, on a channel to ``endpoint`` (``host:port``).

    A context manager: the channel is closed when the block ends. Making one connects nothing
    (gRPC connects on the first call); it raises UserValueError when ``ca_cert`` cannot be read.
    """

    def __init__(self, endpoint: str, *, insecure: bool, ca_cert: str | None = None, token: str | None = None) -> None:
        from flyteidl.service import admin_pb2_grpc

        self.endpoint = endpoint
        self.insecure = insecure
        self.token = token
        self.channel = _channel(endpoint, insecure=insecure, ca_cert=ca_cert, token=token)
        self.stub = admin_pb2_grpc.AdminServiceStub(self.channel)
        # Over TLS the token rides as call credentials; over plaintext gRPC allows only plain metadata.
        self.metadata = (("authorization", f"Bearer {token}"),) if token and insecure else None

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.channel.close()

    def create(self, method: str, request: Any, what: str) -> bool:
        """Send a create request (``method``: ``CreateTask``, ``CreateWorkflow``, ``CreateLaunchPlan``)
        for the entity ``what``; return False when the admin already holds this version (ALREADY_EXISTS).
        """
        import grpc

        try:
            getattr(self.stub, method)(request, timeout=CALL_TIMEOUT, metadata=self.metadata)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                return False
            raise self.error(error, f"register {what}") from None
        return True

    def activate(self, identifier: Any, what: str) -> None:
        """Make the launch plan ``identifier`` (described as ``what``) active."""
        import grpc
        from flyteidl.admin import launch_plan_pb2

        request = launch_plan_pb2.LaunchPlanUpdateRequest(id=identifier, state=launch_plan_pb2.ACTIVE)
        try:
            self.stub.UpdateLaunchPlan(request, timeout=CALL_TIMEOUT, metadata=self.metadata)
        except grpc.RpcError as error:
            raise self.error(error, f"activate {what}") from None

    def error(self, error: grpc.RpcError, action: str) -> RegistrationError:
        """The taskloom error for a failed call, naming the endpoint, ``action`` and what to check."""
        import grpc

        code = error.code()
        details = error.details() or "no details"
        where = f"the Flyte admin service at {self.endpoint}"
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            hint = (
                f"give a bearer token with --token or ${TOKEN_ENV}"
                if not self.token
                else f"check the bearer token (--token or ${TOKEN_ENV})"
            )
            return AdminAuthenticationError(
                f"{where} refused to {action}: {code.name}: {details}; {hint}", endpoint=self.endpoint, code=code.name
            )
        if code == grpc.StatusCode.UNAVAILABLE:
            hint = (
                "check --endpoint, and whether it speaks TLS (drop --insecure)"
                if self.insecure
                else "check --endpoint, whether it speaks plaintext (--insecure) and whether its certificate is trusted (--ca-cert)"
            )
            return AdminUnavailableError(
                f"could not reach {where} to {action}: {details}; {hint}", endpoint=self.endpoint, code=code.name
            )
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return AdminUnavailableError(
                f"{where} did not answer within {CALL_TIMEOUT:g} s when asked to {action}",
                endpoint=self.endpoint,
                code=code.name,
            )
        return RegistrationError(
            f"{where} refused to {action}: {code.name}: {details}", endpoint=self.endpoint, code=code.name
        )
