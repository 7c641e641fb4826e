"""The filesystem behind ``s3://`` (and ``s3a://``) URIs: s3fs, configured from the AWS environment.

One :class:`S3FileSystem` is kept per configuration (:class:`~taskloom_s3.settings.S3Settings`, which
includes a digest of the credential variables) and per process, so changing ``AWS_*`` variables gives
a new client while repeated transfers reuse one connection pool.

Transfers stream: files are uploaded in parts and downloaded in ranges of :data:`PART_SIZE`, at most
:data:`MAX_CONCURRENCY` parts of a file and :data:`BATCH_SIZE` files of a directory at a time. So the
data in flight is bounded whatever the size of a file: ``MAX_CONCURRENCY * PART_SIZE`` (32 MiB) for
one file, ``BATCH_SIZE`` times that at most for a directory, plus the copies botocore and aiohttp make
while sending (a 1 GiB copy peaks ~95 MiB above the interpreter). s3fs's defaults, 10 parts of 50 MiB
per file and up to hundreds of files at once, could hold gigabytes.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import s3fs

from taskloom_s3.settings import DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_MODE, S3Settings, read_settings

#: The URI schemes served: ``s3a`` is Hadoop's name for the same thing.
PROTOCOLS = ("s3", "s3a")
#: Size of the parts of a multipart upload and of the ranges of a download (S3's minimum part is 5 MiB).
PART_SIZE = 8 * 2**20
#: Parts of one file in flight at once.
MAX_CONCURRENCY = 4
#: Files of one directory in flight at once.
BATCH_SIZE = 8
#: S3 allows at most this many parts per object; bigger files get bigger parts.
MAX_PARTS = 10_000


class S3FileSystem(s3fs.S3FileSystem):
    """s3fs with bounded memory per transfer and errors explained in plain words."""

    def __init__(self, settings: S3Settings, **kwargs: Any) -> None:
        self.settings = settings
        super().__init__(**kwargs)
        self.batch_size = BATCH_SIZE  # s3fs does not pass batch_size on to fsspec

    async def _put_file(self, lpath: str, rpath: str, chunksize: int | None = None, **kwargs: Any) -> Any:
        # s3fs reads a file below two parts in one piece, and uses 50 MiB parts otherwise.
        if chunksize is None:
            size = os.path.getsize(lpath) if os.path.isfile(lpath) else 0
            chunksize = max(PART_SIZE, math.ceil(size / MAX_PARTS))
        return await super()._put_file(lpath, rpath, chunksize=chunksize, **kwargs)

    def explain_error(self, error: BaseException, uri: str) -> str | None:
        """Plain words for ``error``, raised while copying ``uri`` (see :class:`taskloom.storage.FileSystem`)."""
        return explain_error(error, uri, self.settings, self)


class UnusableSettings:
    """Stands in for the filesystem when the settings are wrong: every use raises the settings error.

    A hook that raised would get the whole plugin marked failed (and ``s3://`` reported as served by
    nobody); this way the error reaches whoever uses an ``s3://`` URI, with that URI.
    """

    def __init__(self, error: Exception) -> None:
        self.error = error

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error

    open = get = put = exists = isdir = rm = _fail

    def explain_error(self, error: BaseException, uri: str) -> str | None:
        """The settings error says it all."""
        return "taskloom-s3 is misconfigured" if error is self.error else None


_cache: dict[tuple[S3Settings, int], S3FileSystem] = {}
_cache_lock = threading.Lock()


def s3_filesystem(settings: S3Settings | None = None) -> S3FileSystem | UnusableSettings:
    """The filesystem for ``settings`` (default: read from the environment and configuration now)."""
    try:
        if settings is None:
            settings = read_settings()  # also a taskloom configuration file that is not valid TOML
        key = (settings, os.getpid())  # a forked child must not share its parent's connections
        with _cache_lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = _create(settings)
            return found
    except Exception as error:
        return UnusableSettings(error)


def _create(settings: S3Settings) -> S3FileSystem:
    retry_mode, max_attempts = settings.retry_mode, settings.max_attempts
    if retry_mode is None or max_attempts is None:
        # What the profile in ~/.aws/config says, if anything; else our defaults (botocore's
        # own default, "legacy" with 5 attempts, treats throttling less carefully).
        import botocore.session

        try:
            profile = botocore.session.Session(profile=settings.profile).get_scoped_config()
        except Exception:  # an unknown profile: botocore says so, with its name, at the first request
            profile = {}
        retry_mode = retry_mode or profile.get("retry_mode") or DEFAULT_RETRY_MODE
        try:
            max_attempts = max_attempts or int(profile.get("max_attempts") or DEFAULT_MAX_ATTEMPTS)
        except ValueError:
            max_attempts = DEFAULT_MAX_ATTEMPTS
    # total_max_attempts counts the first try, as AWS_MAX_ATTEMPTS does (Config's max_attempts does not).
    config: dict[str, Any] = {"retries": {"mode": retry_mode, "total_max_attempts": max_attempts}}
    if settings.region:
        # In the client's Config rather than client_kwargs, where s3fs would also send it as the
        # location of every bucket it creates (which us-east-1 refuses).
        config["region_name"] = settings.region
    options: dict[str, Any] = {}
    if settings.profile:
        options["profile"] = settings.profile
    return S3FileSystem(
        settings,
        endpoint_url=settings.endpoint_url,
        anon=settings.anonymous,
        config_kwargs=config,
        default_block_size=PART_SIZE,
        max_concurrency=MAX_CONCURRENCY,
        # Other processes (worker processes, other runs) write too: never answer from a stale listing.
        use_listings_cache=False,
        # fsspec would hand back an instance made for other credentials: it keys on arguments only.
        skip_instance_cache=True,
        **options,
    )


# --- errors in plain words --------------------------------------------------------------------

_CREDENTIALS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE and its credentials)"


def explain_error(error: BaseException, uri: str, settings: S3Settings, filesystem: Any = None) -> str | None:
    """Say in plain words why a request about ``uri`` failed, from the S3 error code when there is one.

    Returns None when there is nothing to add to the error's own message.
    """
    code = _error_code(error)
    if code is None and isinstance(error, OSError) and error.filename is not None:
        return None  # about a local file (s3fs's own errors carry no file name): nothing to add
    bucket = _bucket(uri)
    where = settings.endpoint_url or "AWS"
    if code == "InvalidAccessKeyId":
        return f"access denied: the access key is unknown to {where}; check {_CREDENTIALS}"
    if code == "SignatureDoesNotMatch":
        return f"access denied: the secret key does not match the access key; check {_CREDENTIALS}"
    if code in ("ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "InvalidToken"):
        return "access denied: the session token has expired or is invalid; refresh AWS_SESSION_TOKEN (or log in again)"
    if code in ("AccessDenied", "AllAccessDisabled", "403") or isinstance(error, PermissionError):
        return f"access denied to bucket '{bucket}' at {where}; check {_CREDENTIALS} and the bucket's permissions"
    if code == "NoSuchBucket" or "bucket does not exist" in str(error).lower():
        return f"bucket '{bucket}' does not exist at {where}"
    if code in ("SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"):
        return (
            f"the server kept throttling requests after {settings.max_attempts or 'the configured'} attempts; "
            "raise AWS_MAX_ATTEMPTS or set AWS_RETRY_MODE=adaptive"
        )
    name = type(_root(error)).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return f"no usable AWS credentials: set {_CREDENTIALS}, or [s3] anonymous = true for public buckets"
    if name == "ProfileNotFound":
        return f"the AWS profile '{settings.profile}' is not in the AWS configuration (AWS_PROFILE, AWS_CONFIG_FILE)"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError", "ConnectionRefusedError"):
        return f"cannot reach the S3 endpoint {where}; check AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3)"
    if code in ("NoSuchKey", "404") or isinstance(error, FileNotFoundError):
        if filesystem is not None and bucket and not _bucket_exists(filesystem, bucket):
            return f"bucket '{bucket}' does not exist at {where}"
        return f"nothing is stored at {uri}"
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _root(error: BaseException) -> BaseException:
    """The botocore (or connection) error under s3fs's translation, else ``error`` itself."""
    for link in _chain(error):
        if type(link).__module__.split(".")[0] in ("botocore", "aiobotocore", "aiohttp"):
            return link
    return error


def _error_code(error: BaseException) -> str | None:
    for link in _chain(error):
        response = getattr(link, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
    return None


def _bucket(uri: str) -> str:
    return uri.partition("://")[2].split("/", 1)[0]


def _bucket_exists(filesystem: Any, bucket: str) -> bool:
    try:
        filesystem.call_s3("head_bucket", Bucket=bucket)
    except FileNotFoundError:
        return False
    except Exception:  # forbidden, unreachable: not known to be missing
        return True
    return True
