"""Settings that turn entities into serialisable templates (:class:`SerializationSettings`), the
images tasks run in (:class:`Image`, :class:`ImageConfig`) and where a Flyte backend is
(:class:`Config`), with flytekit's names from ``flytekit.configuration``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from typing import Any

from taskloom.exceptions.user import ValidationError

#: The image of a task that names none and whose settings give no default.
DEFAULT_IMAGE = "ghcr.io/taskloom/taskloom:py3.11-latest"

#: The name of the default image in an :class:`ImageConfig` (``--image default=...``, ``{{.image.default}}``).
DEFAULT_IMAGE_NAME = "default"


@dataclasses.dataclass(frozen=True)
class Image:
    """A container image by name: ``fqn`` (``ghcr.io/acme/app``) with a ``tag`` or a ``digest``.

    ``name`` is how tasks refer to it (``container_image="{{.image.NAME}}"``); :attr:`full` is what
    a container runs. Giving both a tag and a digest is a ValueError, as in flytekit.
    """

    name: str
    fqn: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        if self.tag is not None and self.digest is not None:
            raise ValueError(
                f"image {self.name!r}: give a tag or a digest, not both (got {self.tag!r} and {self.digest!r})"
            )

    @property
    def full(self) -> str:
        """``fqn@digest`` or ``fqn:tag``; just ``fqn`` with neither (flytekit writes ``fqn:None``)."""
        if self.digest:
            return f"{self.fqn}@{self.digest}"
        return f"{self.fqn}:{self.tag}" if self.tag else self.fqn

    @property
    def version(self) -> str | None:
        """The digest or the tag, whichever is given."""
        return self.digest or self.tag

    @staticmethod
    def look_up_image_info(name: str, image_identifier: str, allow_no_tag_or_digest: bool = False) -> Image:
        """The image ``name`` for ``image_identifier`` (``registry:5000/team/app:3.1``, ``app@sha256:...``).

        An identifier with neither tag nor digest is an AssertionError (as in flytekit) unless
        ``allow_no_tag_or_digest``. (flytekit also accepts the path of an ImageSpec YAML file and
        builds it; taskloom builds no images here.)
        """
        fqn, tag, digest = _parse_image(image_identifier)
        if not allow_no_tag_or_digest and tag is None and digest is None:
            raise AssertionError(f"image {name!r}: {image_identifier!r} has no tag or digest (write NAME:TAG)")
        return Image(name=name, fqn=fqn, tag=tag, digest=digest)


def _parse_image(identifier: str) -> tuple[str, str | None, str | None]:
    """``(fqn, tag, digest)`` of an image identifier; a ``:`` inside the registry's host:port is no tag."""
    name, at, digest = identifier.rpartition("@")
    if at:
        return name, None, digest
    name, colon, tag = identifier.rpartition(":")
    if colon and "/" not in tag:
        return name, tag, None
    return identifier, None, None


@dataclasses.dataclass(frozen=True)
class ImageConfig:
    """The images of a serialization: a default one (tasks that name none run in it) and named ones.

    Build it with :meth:`auto_default_image`, :meth:`from_images` or :meth:`auto`; give it to
    ``SerializationSettings(image_config=...)``.
    """

    default_image: Image | None = None
    images: list[Image] | None = None

    def find_image(self, name: str) -> Image | None:
        """The image called ``name`` (the default one included), or None."""
        candidates = [self.default_image] if self.default_image else []
        candidates.extend(self.images or ())
        return next((image for image in candidates if image.name == name), None)

    @staticmethod
    def validate_image(_: Any, param: str, values: tuple[str, ...]) -> ImageConfig:
        """An ImageConfig from command-line values (a click callback, as flytekit's): ``NAME=IMAGE``
        names an image, a bare ``IMAGE`` is the default one (at most one); with none given the
        default is :data:`DEFAULT_IMAGE`."""
        default_image = None
        images = []
        for value in values:
            name, equals, identifier = value.partition("=")
            image = (
                Image.look_up_image_info(name, identifier)
                if equals
                else Image.look_up_image_info(DEFAULT_IMAGE_NAME, value)
            )
            if image.name == DEFAULT_IMAGE_NAME:
                if default_image is not None:
                    raise ValueError(
                        f"{param}: only one default image can be given, got {default_image.full} and {image.full}"
                    )
                default_image = image
            else:
                images.append(image)
        if default_image is None:
            default_image = Image.look_up_image_info(DEFAULT_IMAGE_NAME, DEFAULT_IMAGE)
        return ImageConfig.create_from(default_image, images)

    @classmethod
    def create_from(cls, default_image: Image | None, other_images: list[Image] | None = None) -> ImageConfig:
        """An ImageConfig whose ``images`` list the default image first, then ``other_images``."""
        if default_image is not None and not isinstance(default_image, Image):
            raise ValueError(f"default_image must be an Image or None, got {type(default_image).__name__}")
        return cls(
            default_image=default_image, images=[*([default_image] if default_image else []), *(other_images or [])]
        )

    @classmethod
    def auto(cls, config_file: str | None = None, img_name: str | None = None) -> ImageConfig:
        """``img_name`` as the default image (none when not given), and the images of the ``[images]``
        table of the configuration file (``config_file``, else taskloom's: :func:`taskloom.config.config_path`)::

            [images]
            trainer = "ghcr.io/acme/trainer:3"
        """
        default_image = Image.look_up_image_info(DEFAULT_IMAGE_NAME, img_name) if img_name else None
        table = _config_file(config_file).get("images", {})
        others = [
            Image.look_up_image_info(name, str(image), allow_no_tag_or_digest=True) for name, image in table.items()
        ]
        return cls.create_from(default_image, others)

    @classmethod
    def from_images(cls, default_image: str, m: dict[str, str] | None = None) -> ImageConfig:
        """``default_image`` as the default image and ``m`` (name -> image) as the named ones."""
        default = Image.look_up_image_info(DEFAULT_IMAGE_NAME, default_image) if default_image else None
        others = [
            Image.look_up_image_info(name, image, allow_no_tag_or_digest=True) for name, image in (m or {}).items()
        ]
        return cls.create_from(default, others)

    @classmethod
    def auto_default_image(cls) -> ImageConfig:
        """:meth:`auto` with taskloom's default image (:data:`DEFAULT_IMAGE`)."""
        return cls.auto(img_name=DEFAULT_IMAGE)


@dataclasses.dataclass(frozen=True)
class SerializationSettings:
    """Where and as what entities are registered: project, domain, version, default image, environment.

    Used when a task or workflow becomes a template (``to_task_template(settings)``); running locally
    needs none. ``default_image`` is the image of tasks that name no ``container_image``; ``env`` is
    added to every container's environment (a task's own ``environment`` wins on a clash).
    ``images`` names other images (``{"trainer": "ghcr.io/acme/trainer:3"}``) that a task's
    ``container_image`` refers to as ``{{.image.trainer.fqn}}:{{.image.trainer.version}}`` or
    ``{{.image.trainer}}``, as in flytekit (``default`` names ``default_image``; see
    :func:`resolve_image`). ``fast_serialization_settings`` turns on fast registration.

    flytekit's constructor works too: ``SerializationSettings(image_config=ImageConfig.auto_default_image(),
    project=..., domain=..., version=..., env=...)``.
    """

    project: str = ""
    domain: str = ""
    version: str = ""
    default_image: str = DEFAULT_IMAGE
    env: dict[str, str] | None = None
    fast_serialization_settings: FastSerializationSettings | None = None
    images: dict[str, str] | None = None
    #: flytekit's way to give the images (``image_config=ImageConfig.auto_default_image()``): when
    #: given, its default image and named images are the ones used; otherwise it is made from
    #: ``default_image`` and ``images``, so both spellings read the same.
    image_config: ImageConfig | None = None

    def __post_init__(self) -> None:
        if self.image_config is None or type(self.image_config) is _DerivedImageConfig:
            # Made from default_image and images (again after dataclasses.replace, which may change them).
            object.__setattr__(self, "image_config", _DerivedImageConfig.of(self.default_image, self.images))
            return
        named = {image.name: image.full for image in self.image_config.images or () if image.name != DEFAULT_IMAGE_NAME}
        if self.image_config.default_image is not None:
            object.__setattr__(self, "default_image", self.image_config.default_image.full)
        if named:
            object.__setattr__(self, "images", {**(self.images or {}), **named})

    @classmethod
    def for_image(
        cls, image: str, version: str, project: str = "", domain: str = "", **_: Any
    ) -> SerializationSettings:
        """Settings with ``image`` as the default image (flytekit's shortcut; an interpreter path is ignored)."""
        return cls(image_config=ImageConfig.from_images(image), project=project, domain=domain, version=version)

    def should_fast_serialize(self) -> bool:
        """Whether the settings ask for fast registration."""
        return self.fast_serialization_settings is not None and self.fast_serialization_settings.enabled


@dataclasses.dataclass(frozen=True)
class _DerivedImageConfig(ImageConfig):
    """The image config of settings given as ``default_image`` and ``images`` (kept in step with them)."""

    @classmethod
    def of(cls, default_image: str, images: dict[str, str] | None) -> _DerivedImageConfig:
        default = Image.look_up_image_info(DEFAULT_IMAGE_NAME, default_image, allow_no_tag_or_digest=True)
        others = [
            Image.look_up_image_info(name, image, allow_no_tag_or_digest=True) for name, image in (images or {}).items()
        ]
        return cls(default_image=default, images=[default, *others])


@dataclasses.dataclass(frozen=True)
class FastSerializationSettings:
    """Fast registration: the code travels as a tarball next to the package, not inside the image.

    When ``enabled``, a task's container first fetches ``distribution_location`` (a URI, filled
    in at registration when empty) and unpacks it into ``destination_dir`` before running the task.
    """

    enabled: bool = False
    destination_dir: str | None = None
    distribution_location: str | None = None


# ``{{.image.NAME}}``, ``{{.image.NAME.fqn}}``, ``{{.image.NAME.version}}`` (flytekit's placeholders).
_IMAGE_PLACEHOLDER = re.compile(r"\{\{\s*\.images?\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\s*\}\}")


def split_image(image: str) -> tuple[str, str]:
    """``("registry:5000/team/app", "3.1")`` for ``registry:5000/team/app:3.1``; a digest
    (``app@sha256:...``) is the version after ``@``; no tag gives ``"latest"``."""
    if "@" in image:
        name, _, digest = image.partition("@")
        return name, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = image.rpartition(":")
        return name, tag
    return image, "latest"


def resolve_image(image: str | None, settings: SerializationSettings, *, entity: str = "") -> str:
    """The image a task runs in: ``image`` with its placeholders replaced from ``settings``, or the
    settings' default image when ``image`` is empty.

    Raises :class:`~taskloom.exceptions.user.ValidationError` naming ``entity`` and the image for
    an unknown image name or attribute.
    """
    if not image:
        return settings.default_image
    if "{{" not in image:
        return image
    images = {"default": settings.default_image, **(settings.images or {})}

    def replace(match: re.Match[str]) -> str:
        name, attribute = match.group(1), match.group(2)
        full = images.get(name)
        prefix = f"{entity}: " if entity else ""
        if full is None:
            raise ValidationError(
                f"{prefix}container image {image!r} names the image {name!r}, which the settings do not define "
                f"(known: {', '.join(sorted(images))}; give it with --image {name}=IMAGE)"
            )
        if attribute is None:
            return full
        fqn, version = split_image(full)
        if attribute == "fqn":
            return fqn
        if attribute == "version":
            return version
        raise ValidationError(f"{prefix}container image {image!r}: only .fqn and .version can follow an image name")

    resolved = _IMAGE_PLACEHOLDER.sub(replace, image)
    # A digest joins its name with "@", not ":" (``{{.image.x.fqn}}:{{.image.x.version}}``).
    return re.sub(r":(sha256:[0-9a-f]+)$", r"@\1", resolved)


# --- where a Flyte backend is (flytekit's Config) ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlatformConfig:
    """Where the Flyte admin service is: ``endpoint`` (``host:port``), plaintext when ``insecure``.

    :meth:`auto` reads ``FLYTE_PLATFORM_URL``, ``FLYTE_PLATFORM_INSECURE``,
    ``FLYTE_PLATFORM_INSECURE_SKIP_VERIFY``, ``FLYTE_PLATFORM_CA_CERT_FILE_PATH`` and
    ``FLYTE_PLATFORM_CONSOLE_ENDPOINT`` (flytekit's variables), else the ``[platform]`` table of the
    configuration file (keys ``url``/``endpoint``, ``insecure``, ``insecure_skip_verify``,
    ``ca_cert_file_path``, ``console_endpoint``), else the defaults.
    """

    endpoint: str = "localhost:30080"
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_cert_file_path: str | None = None
    console_endpoint: str | None = None

    @classmethod
    def auto(cls, config_file: str | None = None) -> PlatformConfig:
        """The platform configuration from the environment and the configuration file (see the class docs)."""
        table = _config_file(config_file).get("platform", {})
        endpoint = _setting("FLYTE_PLATFORM_URL", table, "url", "endpoint")
        return cls(
            endpoint=str(endpoint).removeprefix("dns:///") if endpoint else cls.endpoint,
            insecure=_flag(_setting("FLYTE_PLATFORM_INSECURE", table, "insecure")),
            insecure_skip_verify=_flag(_setting("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY", table, "insecure_skip_verify")),
            ca_cert_file_path=_setting("FLYTE_PLATFORM_CA_CERT_FILE_PATH", table, "ca_cert_file_path"),
            console_endpoint=_setting("FLYTE_PLATFORM_CONSOLE_ENDPOINT", table, "console_endpoint"),
        )

    @classmethod
    def for_endpoint(cls, endpoint: str, insecure: bool = False) -> PlatformConfig:
        """The admin service at ``endpoint``, plaintext when ``insecure``."""
        return cls(endpoint=endpoint, insecure=insecure)


@dataclasses.dataclass(frozen=True)
class S3Config:
    """An S3-compatible store's endpoint and keys (a sandbox's MinIO, say); None: the AWS defaults.

    :meth:`auto` reads ``FLYTE_AWS_ENDPOINT``, ``FLYTE_AWS_ACCESS_KEY_ID`` and
    ``FLYTE_AWS_SECRET_ACCESS_KEY`` (flytekit's variables), else the ``[s3]`` table's
    ``endpoint_url``, ``access_key_id`` and ``secret_access_key``. (taskloom-s3 itself reads the
    standard AWS variables: see :meth:`environment`.)
    """

    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @classmethod
    def auto(cls, config_file: str | None = None) -> S3Config:
        """The S3 configuration from the environment and the configuration file (see the class docs)."""
        table = _config_file(config_file).get("s3", {})
        return cls(
            endpoint=_setting("FLYTE_AWS_ENDPOINT", table, "endpoint_url", "endpoint"),
            access_key_id=_setting("FLYTE_AWS_ACCESS_KEY_ID", table, "access_key_id"),
            secret_access_key=_setting("FLYTE_AWS_SECRET_ACCESS_KEY", table, "secret_access_key"),
        )

    def environment(self) -> dict[str, str]:
        """The standard AWS variables that give taskloom-s3 (and every AWS SDK) this configuration."""
        names = {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        return {name: value for name, value in names.items() if value}


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """How data reaches the blob store: its S3 settings (flytekit's ``data_config``)."""

    s3: S3Config = dataclasses.field(default_factory=S3Config)

    @classmethod
    def auto(cls, config_file: str | None = None) -> DataConfig:
        """The data configuration from the environment and the configuration file."""
        return cls(s3=S3Config.auto(config_file))


@dataclasses.dataclass(frozen=True)
class Config:
    """Where a Flyte backend is and how to reach its data (flytekit's ``Config``)::

        Config.auto()                                  # environment, then the configuration file
        Config.for_sandbox()                           # flytectl demo's cluster on this machine
        Config.for_endpoint("flyte.example.com:443")   # an admin service, TLS

    The configuration file is taskloom's TOML one (:func:`taskloom.config.config_path`) or
    ``config_file``; flytekit's YAML files are not read.
    """

    platform: PlatformConfig = dataclasses.field(default_factory=PlatformConfig)
    data_config: DataConfig = dataclasses.field(default_factory=DataConfig)
    local_sandbox_path: str = dataclasses.field(default_factory=tempfile.gettempdir)

    def with_params(
        self,
        platform: PlatformConfig | None = None,
        data_config: DataConfig | None = None,
        local_sandbox_path: str | None = None,
    ) -> Config:
        """A copy with the given parts replaced."""
        return Config(
            platform=platform or self.platform,
            data_config=data_config or self.data_config,
            local_sandbox_path=local_sandbox_path or self.local_sandbox_path,
        )

    @classmethod
    def auto(cls, config_file: str | None = None) -> Config:
        """The configuration from flytekit's environment variables, else the configuration file, else defaults."""
        table = _config_file(config_file).get("local", {})
        sandbox = os.environ.get("FLYTE_SDK_LOCAL_SANDBOX") or table.get("sandbox_path")
        return cls(
            platform=PlatformConfig.auto(config_file),
            data_config=DataConfig.auto(config_file),
            **({"local_sandbox_path": str(sandbox)} if sandbox else {}),
        )

    @classmethod
    def for_sandbox(cls) -> Config:
        """The local sandbox cluster (``flytectl demo start``): admin at ``localhost:30080`` in
        plaintext, MinIO at ``http://localhost:30002``."""
        return cls(
            platform=PlatformConfig(endpoint="localhost:30080", insecure=True),
            data_config=DataConfig(
                s3=S3Config(endpoint="http://localhost:30002", access_key_id="minio", secret_access_key="miniostorage")
            ),
        )

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        insecure: bool = False,
        data_config: DataConfig | None = None,
        config_file: str | None = None,
    ) -> Config:
        """:meth:`auto`, with the admin service at ``endpoint`` (and ``data_config`` when given)."""
        config = cls.auto(config_file)
        platform = (
            dataclasses.replace(config.platform, endpoint=endpoint, insecure=insecure)
            if config_file
            else PlatformConfig.for_endpoint(endpoint, insecure)
        )
        return config.with_params(platform=platform, data_config=data_config)


def _setting(variable: str, table: dict[str, Any], *keys: str) -> Any:
    """The environment variable's value, else the first of ``keys`` in the configuration table, else None."""
    value = os.environ.get(variable)
    if value:
        return value
    return next((table[key] for key in keys if key in table), None)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _config_file(config_file: str | None) -> dict[str, Any]:
    """The TOML configuration file ``config_file`` (missing: empty), else taskloom's (:func:`taskloom.config.read_config`)."""
    from taskloom.config import read_config  # only when a configuration is read

    if config_file is None:
        return read_config()
    import tomllib  # only when a file is read: keeps `import taskloom` lean

    try:
        with open(config_file, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ValidationError(f"configuration file {config_file} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"configuration file {config_file} is not valid TOML: {error}") from error
