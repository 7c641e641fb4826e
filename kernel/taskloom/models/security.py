"""Secrets and identities a task runs with (flyteidl ``core/security.proto``)."""

from __future__ import annotations

import enum

import attrs

from taskloom.models._fields import as_tuple


class MountType(enum.Enum):
    """How a secret is exposed to the task (flyteidl ``core.Secret.MountType``)."""

    ANY = 0
    ENV_VAR = 1
    FILE = 2


@attrs.frozen
class Secret:
    """A secret the task needs, by group and key (flyteidl ``core.Secret``)."""

    MountType = MountType

    group: str
    key: str = ""
    group_version: str = ""
    mount_requirement: MountType = MountType.ANY
    env_var: str = ""


@attrs.frozen
class OAuth2Client:
    """The credentials of an OAuth2 client (flyteidl ``core.OAuth2Client``)."""

    client_id: str
    client_secret: Secret


@attrs.frozen
class Identity:
    """Who a task runs as: IAM role, Kubernetes service account, OAuth2 client (flyteidl ``core.Identity``)."""

    iam_role: str = ""
    k8s_service_account: str = ""
    oauth2_client: OAuth2Client | None = None
    execution_identity: str = ""


class OAuth2TokenType(enum.Enum):
    """The OAuth2 grant used to obtain a token (flyteidl ``core.OAuth2TokenRequest.Type``)."""

    CLIENT_CREDENTIALS = 0


@attrs.frozen
class OAuth2TokenRequest:
    """A token the task needs, injected under ``name`` (flyteidl ``core.OAuth2TokenRequest``)."""

    Type = OAuth2TokenType

    name: str
    type: OAuth2TokenType = OAuth2TokenType.CLIENT_CREDENTIALS
    client: OAuth2Client | None = None
    idp_discovery_endpoint: str = ""
    token_endpoint: str = ""


@attrs.frozen
class SecurityContext:
    """The identity, secrets and tokens of a task or execution (flyteidl ``core.SecurityContext``)."""

    run_as: Identity | None = None
    secrets: tuple[Secret, ...] = attrs.field(default=(), converter=as_tuple)
    tokens: tuple[OAuth2TokenRequest, ...] = attrs.field(default=(), converter=as_tuple)
