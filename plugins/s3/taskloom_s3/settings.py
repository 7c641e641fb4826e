"""Where taskloom-s3 finds its endpoint, region, profile and retry policy.

Each setting is looked up in this order, first found wins:

1. the standard AWS environment variables (the names every AWS SDK and the ``aws`` CLI read);
2. the ``[s3]`` section of taskloom's configuration file (:mod:`taskloom.config`);
3. what botocore finds by itself: the profile in ``~/.aws/config`` (``AWS_CONFIG_FILE``), and for
   credentials its usual chain (environment, ``~/.aws/credentials``, SSO, web identity, instance
   metadata...). taskloom never reads or stores keys itself.

| setting | environment | ``[s3]`` key | default |
| --- | --- | --- | --- |
| endpoint | ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL`` | ``endpoint_url`` | AWS, or the profile's |
| region | ``AWS_REGION``, ``AWS_DEFAULT_REGION`` | ``region`` | the profile's, else botocore's |
| profile | ``AWS_PROFILE`` | ``profile`` | ``default`` |
| retry mode | ``AWS_RETRY_MODE`` | ``retry_mode`` | the profile's, else ``standard`` |
| attempts | ``AWS_MAX_ATTEMPTS`` | ``max_attempts`` | the profile's, else 5 |
| anonymous | (none) | ``anonymous`` | false (public buckets: true) |
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The retry modes botocore knows; ``standard`` and ``adaptive`` retry throttling with back-off.
RETRY_MODES = ("legacy", "standard", "adaptive")
#: Unless configured otherwise: botocore's "standard" mode (throttling and transient errors are
#: retried with exponential back-off and jitter), with a few more attempts than its default of 3.
DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 5

#: Variables that change which credentials botocore finds; part of the cache key of a filesystem,
#: so that changing them (a test, a long-lived process switching accounts) gives a new client.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


class SettingsError(ValueError):
    """A setting has a value taskloom-s3 cannot use; the message names where it came from."""


@dataclass(frozen=True, slots=True)
class S3Settings:
    """How to reach S3: the resolved settings of one filesystem (also its cache key).

    ``None`` leaves the choice to botocore (the profile's value, or its own default).
    ``credentials`` is a digest of the credential variables, never the keys themselves.
    """

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    retry_mode: str | None = None
    max_attempts: int | None = None
    anonymous: bool = False
    credentials: str = ""

    def describe(self) -> str:
        """A short description for error messages: endpoint, region and profile."""
        return ", ".join(
            [
                f"endpoint {self.endpoint_url or 'AWS (default)'}",
                f"region {self.region or '(from the profile or botocore)'}",
                f"profile {self.profile or 'default'}",
            ]
        )


def read_settings(environ: Mapping[str, str] | None = None, section: Mapping[str, Any] | None = None) -> S3Settings:
    """Resolve the settings from ``environ`` (default ``os.environ``) and the ``[s3]`` ``section``
    (default: read from taskloom's configuration file).

    Raises :class:`SettingsError` naming the variable or key whose value is unusable.
    """
    environ = os.environ if environ is None else environ
    if section is None:
        from taskloom.extend import read_config

        section = read_config().get("s3") or {}
        if not isinstance(section, Mapping):
            raise SettingsError("taskloom configuration: [s3] must be a table")

    def pick(variables: tuple[str, ...], key: str) -> tuple[Any, str] | None:
        for variable in variables:
            value = environ.get(variable)
            if value:
                return value, f"${variable}"
        if section.get(key) not in (None, ""):
            return section[key], f"[s3] {key} in the taskloom configuration"
        return None

    endpoint = pick(("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), "endpoint_url")
    region = pick(("AWS_REGION", "AWS_DEFAULT_REGION"), "region")
    profile = pick(("AWS_PROFILE",), "profile")
    mode = pick(("AWS_RETRY_MODE",), "retry_mode")
    attempts = pick(("AWS_MAX_ATTEMPTS",), "max_attempts")

    retry_mode = None
    if mode is not None:
        retry_mode = str(mode[0]).strip().lower()
        if retry_mode not in RETRY_MODES:
            raise SettingsError(f"{mode[1]} is {mode[0]!r}; expected one of {', '.join(RETRY_MODES)}")
    max_attempts = None
    if attempts is not None:
        try:
            max_attempts = int(attempts[0])
        except (TypeError, ValueError):
            max_attempts = 0
        if max_attempts < 1:
            raise SettingsError(f"{attempts[1]} is {attempts[0]!r}; expected a whole number of attempts, 1 or more")
    anonymous = section.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise SettingsError(f"[s3] anonymous in the taskloom configuration is {anonymous!r}; expected true or false")

    digest = hashlib.sha256()
    for variable in (*CREDENTIAL_VARIABLES, "AWS_PROFILE"):
        digest.update(f"{variable}={environ.get(variable, '')}\0".encode())
    return S3Settings(
        endpoint_url=str(endpoint[0]) if endpoint else None,
        region=str(region[0]) if region else None,
        profile=str(profile[0]) if profile else None,
        retry_mode=retry_mode,
        max_attempts=max_attempts,
        anonymous=anonymous,
        credentials=digest.hexdigest(),
    )
