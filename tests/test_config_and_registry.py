"""Settings rules, the provider registry, the queue layout and what importing costs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared import queues
from shared.config import ALIAS_NAMES, GROUPS, Settings
from shared.errors import UnknownProvider
from shared.providers import registry

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    flat = {name.upper() for name in Settings.model_fields if name not in GROUPS}
    grouped = {f"{group}__{field}".upper() for group, model in GROUPS.items() for field in model.model_fields}
    assert listed == flat | grouped
    documented = (ROOT / ".env.example").read_text()
    assert all(re.search(rf"\b{name}\b", documented) for name in (*ALIAS_NAMES, "REDIS_STATUS_DB"))


def test_visibility_timeout_must_exceed_hard_limit():
    with pytest.raises(ValidationError, match="REDIS_VISIBILITY_TIMEOUT_S"):
        Settings(task_soft_time_limit_s=10, task_time_limit_s=100, redis_visibility_timeout_s=100)
    with pytest.raises(ValidationError, match="TASK_SOFT_TIME_LIMIT_S"):
        Settings(task_soft_time_limit_s=100, task_time_limit_s=100)


def test_production_refuses_placeholder_secret():
    with pytest.raises(ValidationError, match="SIGNING_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(environment="production", signing_secret="a-real-secret")
    # With both secrets set, production settings load (the constructor raises otherwise).
    Settings(environment="production", signing_secret="a-real-secret", webhook_secret="whsec_c2VjcmV0")


def test_every_registered_provider_imports_and_matches_its_key():
    for stage, name in registry.PROVIDERS:
        cls = registry.provider_class(stage, name)
        assert (cls.stage, cls.name) == (stage, name)
        assert cls.queue in queues.ALL_QUEUES
        cls.Options.model_validate({})


def test_unknown_provider_names_the_known_ones():
    with pytest.raises(UnknownProvider, match=r"known: .*stub"):
        registry.provider_class("env", "nope")


def test_undeclared_queue_fails_loudly(redis_server):
    from celery.exceptions import QueueNotFound

    from shared.celery_app import app

    with pytest.raises(QueueNotFound):
        app.signature("orchestrator.plan", args=("x",), queue="no_such_queue").apply_async()


def test_celery_config_is_at_least_once_and_bounded():
    from shared.celery_app import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_soft_time_limit < conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert {q.name for q in conf.task_queues} == set(queues.ALL_QUEUES)
    assert conf.task_create_missing_queues is False


def test_queue_names_print_for_the_makefile():
    out = subprocess.run([sys.executable, "-m", "shared.queues", "--csv"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ",".join(queues.ALL_QUEUES)


def test_api_and_workers_import_light_and_connect_to_nothing():
    """Importing the API and the task modules pulls in no GPU stack, no mesh library, opens no socket."""
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('connected at import time')\n"
        "socket.socket.connect = refuse\n"
        "import apps.api.main, workers.orchestrator.tasks, workers.env_gen.tasks, workers.splat.tasks\n"
        "import workers.asset_3d.tasks, workers.cloud.tasks\n"
        "from shared.providers import registry\n"
        "[registry.provider_class(*key) for key in registry.PROVIDERS]\n"
        "heavy = [m for m in ('torch', 'diffusers', 'trimesh', 'pymongo', 'boto3', 'av', 'pycolmap', 'gsplat',\n"
        "                      'numba') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_production_api_refuses_fault_injection(redis_server, data_dir):
    """Without EXTRA_PROVIDERS (the default), no option or provider that crashes or holds a worker exists."""
    import httpx

    from infra.local import stack

    env = {name: value for name, value in os.environ.items() if name != "EXTRA_PROVIDERS"}
    port = stack.free_port()
    api = stack.start_api("127.0.0.1", port, env, data_dir / "logs" / "no-faults-api", name="no-faults-api")
    try:
        base_url = f"http://127.0.0.1:{port}"
        stack.wait_for_api(base_url)
        for options in ({"crash_process": True}, {"block_s": 60}, {"sleep_s": 60}, {"fail_message": "x"},
                        {"transient_faults": 3}):
            body = {"kind": "env", "prompt": "a trap", "providers": {"env": "stub"}, "options": {"env": options}}
            reply = httpx.post(f"{base_url}/v1/generations", json=body, timeout=10)
            assert reply.status_code == 422 and reply.json()["code"] == "invalid_options", (options, reply.text)
        for stage, kind in (("env", "env"), ("images", "text_to_3d"), ("reconstruct", "text_to_3d")):
            body = {"kind": kind, "prompt": "a trap", "providers": {stage: "faults"}}
            reply = httpx.post(f"{base_url}/v1/generations", json=body, timeout=10)
            assert reply.status_code == 422 and reply.json()["code"] == "unknown_provider", (stage, reply.text)
        listed = httpx.get(f"{base_url}/v1/providers", timeout=10).json()
        assert "faults" not in json.dumps(listed) and "crash_process" not in json.dumps(listed)
    finally:
        api.stop()


def test_extra_providers_are_module_class_entries_that_add_and_never_replace(monkeypatch):
    with pytest.raises(ValidationError, match="module:Class"):
        Settings(extra_providers="tests.faults")
    faulty = "tests.faults:FaultyEnvGenerator"
    assert registry._extras((faulty,)) == {("env", "faults"): faulty}
    with pytest.raises(ValueError, match="would replace the env provider 'stub'"):
        registry._extras(("shared.providers.env_stub:StubEnvGenerator",))


SEED_ALIASES = [
    ({"S3_BUCKET_NAME": "assets"}, "resolved_object_store_url", "s3://assets"),
    ({"S3_BUCKET": "assets"}, "resolved_object_store_url", "s3://assets"),
    ({"S3_BUCKET": "assets/renders"}, "resolved_object_store_url", "s3://assets/renders"),
    ({"S3_BUCKET": "s3://assets/p"}, "resolved_object_store_url", "s3://assets/p"),
    ({"S3_BUCKET_NAME": "assets", "USE_S3_STORAGE": "True"}, "resolved_object_store_url", "s3://assets"),
    ({"S3_REGION": "eu-west-3"}, "aws_region", "eu-west-3"),
    ({"S3_PUBLIC_READ": "True"}, "s3_public_read", True),
    ({"ECR_IMAGE_URI": "1.dkr.ecr.us-east-1.amazonaws.com/mmf-envgen:sprint2-release"}, "sagemaker_image_uri",
     "1.dkr.ecr.us-east-1.amazonaws.com/mmf-envgen:sprint2-release"),
    ({"SM_INSTANCE_TYPE": "ml.g5.xlarge"}, "sagemaker_instance_type", "ml.g5.xlarge"),
    ({"SM_VOL_GB": "80"}, "sagemaker_volume_gb", 80),
    ({"SM_MAX_SEC": "900"}, "sagemaker_max_runtime_s", 900),
    ({"MONGO_URI": "mongodb://db:27017"}, "job_store_url", "mongodb://db:27017"),
    ({"FLUX_MODEL": "black-forest-labs/FLUX.1-schnell"}, "flux.model_path", "black-forest-labs/FLUX.1-schnell"),
    ({"USE_IMAGE_STUB": "true"}, "default_images_provider", "stub"),
    ({"USE_IMAGE_STUB": "false"}, "default_images_provider", "factory"),
    ({"REDIS_HOST": "localhost", "REDIS_PORT": "6379", "REDIS_BROKER_DB": "0", "REDIS_BACKEND_DB": "1",
      "REDIS_STATUS_DB": "0"}, "redis_url", "redis://localhost:6379/0"),
    ({"REDIS_HOST": "localhost", "REDIS_PORT": "6379", "REDIS_BROKER_DB": "0", "REDIS_BACKEND_DB": "1"},
     "resolved_result_backend_url", "redis://localhost:6379/1"),
    ({"REDIS_HOST": "redis"}, "redis_url", "redis://redis:6390/0"),  # the other parts stay REDIS_URL's
    ({"REDIS_PORT": "tcp://10.0.0.7:6379"}, "redis_url", "redis://127.0.0.1:6390/0"),  # Kubernetes', not the seed's
    ({"REDIS_URL": "redis://:pw@cache:6000/2", "REDIS_BACKEND_DB": "3"}, "resolved_result_backend_url",
     "redis://:pw@cache:6000/3"),
    ({"REDIS_URL": "redis://cache:6000/2", "REDIS_BACKEND_DB": "3"}, "redis_url", "redis://cache:6000/2"),
    ({"SDXL__MODEL_PATH": "/models/sdxl", "SDXL_MODEL_PATH": "/models/sdxl"}, "sdxl.model_path", "/models/sdxl"),
    ({"SDXL_STEPS": "30"}, "sdxl.steps", 30),
    ({"SHAP_E__MESH_GRID": "64"}, "shap_e.mesh_grid", 64),
    ({"TRIPOSR_MODEL_PATH": "/models/triposr"}, "triposr.model_path", "/models/triposr"),
    ({"SAGEMAKER_VOLUME_GB": "60", "SM_VOL_GB": "60"}, "sagemaker_volume_gb", 60),  # the same value twice is fine
    ({"SAGEMAKER_VOLUME_GB": "50", "SM_VOL_GB": "80"}, "sagemaker_volume_gb", 80),  # the default restated says nothing
    ({"LLM_TIMEOUT_S": "12.5", "LLM__TIMEOUT_S": "12.50"}, "llm.timeout_s", 12.5),
]


def _read(settings: Settings, path: str) -> object:
    value: object = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An environment without this session's object store and Redis, and no .env (the test gives what it means)."""
    for name in ("OBJECT_STORE_URL", "REDIS_URL", "JOB_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(("given", "setting", "expected"), SEED_ALIASES, ids=[",".join(g) for g, _, _ in SEED_ALIASES])
def test_the_seeds_setting_names_are_read_as_ours(clean_env, given, setting, expected):
    for name, value in given.items():
        clean_env.setenv(name, value)
    assert _read(Settings(), setting) == expected


def test_use_s3_storage_false_keeps_the_objects_local_and_true_needs_a_bucket(clean_env, tmp_path):
    clean_env.setenv("DATA_DIR", str(tmp_path))
    clean_env.setenv("S3_BUCKET_NAME", "your-3d-assets-bucket")
    clean_env.setenv("USE_S3_STORAGE", "False")
    assert Settings().resolved_object_store_url == str(tmp_path / "objects")
    clean_env.delenv("S3_BUCKET_NAME")
    clean_env.setenv("USE_S3_STORAGE", "true")
    with pytest.raises(ValidationError, match="USE_S3_STORAGE=true needs a bucket"):
        Settings()
    clean_env.setenv("USE_S3_STORAGE", "false")
    clean_env.setenv("OBJECT_STORE_URL", "s3://assets")
    with pytest.raises(ValidationError, match="USE_S3_STORAGE=false and OBJECT_STORE_URL=s3://assets disagree"):
        Settings()


@pytest.mark.parametrize(("given", "names"), [
    ({"OBJECT_STORE_URL": "s3://assets", "S3_BUCKET_NAME": "other"}, ("OBJECT_STORE_URL=s3://assets",
                                                                      "S3_BUCKET_NAME=s3://other")),
    ({"S3_BUCKET": "one", "S3_BUCKET_NAME": "two"}, ("S3_BUCKET=s3://one", "S3_BUCKET_NAME=s3://two")),
    ({"SAGEMAKER_VOLUME_GB": "60", "SM_VOL_GB": "80"}, ("SAGEMAKER_VOLUME_GB=60", "SM_VOL_GB=80")),
    ({"SDXL__MODEL_PATH": "/a", "SDXL_MODEL_PATH": "/b"}, ("SDXL__MODEL_PATH=/a", "SDXL_MODEL_PATH=/b")),
    ({"LLM__API_KEY": "hunter2", "LLM_API_KEY": "hunter3"}, ("LLM__API_KEY=***", "LLM_API_KEY=***")),
    ({"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_HOST": "redis"}, ("REDIS_URL=redis://127.0.0.1:6379/0",
                                                                        "REDIS_HOST/REDIS_PORT/REDIS_BROKER_DB")),
    ({"DEFAULT_IMAGES_PROVIDER": "sdxl", "USE_IMAGE_STUB": "true"}, ("DEFAULT_IMAGES_PROVIDER=sdxl",
                                                                     "USE_IMAGE_STUB=stub")),
    ({"JOB_STORE_URL": "mongodb://app:hunter2@db:27017", "MONGO_URI": "mongodb://app:hunter3@db:27017"},
     ("JOB_STORE_URL=mongodb://app:***@db:27017", "MONGO_URI=mongodb://app:***@db:27017")),
])
def test_one_setting_under_two_names_with_different_values_is_refused(clean_env, given, names):
    from pydantic_settings import SettingsError

    for name, value in given.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        Settings()
    assert all(name in str(refused.value) for name in names), str(refused.value)
    assert "hunter" not in str(refused.value)


def test_aliases_are_resolved_per_source_so_the_environment_still_wins_over_dotenv(clean_env, tmp_path):
    (tmp_path / ".env").write_text("SDXL_MODEL_PATH=/from/dotenv\nSM_VOL_GB=80\nS3_BUCKET_NAME=dotenv-bucket\n"
                                   "OBJECT_STORE_URL=\n")
    clean_env.setenv("SDXL__MODEL_PATH", "/from/env")
    settings = Settings()
    assert settings.sdxl.model_path == "/from/env"
    assert settings.sagemaker_volume_gb == 80
    assert settings.resolved_object_store_url == "s3://dotenv-bucket"  # the empty OBJECT_STORE_URL= says nothing
    assert Settings(sdxl_model_path="/from/arguments").sdxl.model_path == "/from/arguments"


def test_bad_alias_values_name_the_setting(clean_env):
    from pydantic_settings import SettingsError

    clean_env.setenv("S3_BUCKET", "/srv/objects")
    with pytest.raises(SettingsError, match="S3_BUCKET=/srv/objects names a bucket"):
        Settings()
    clean_env.delenv("S3_BUCKET")
    clean_env.setenv("USE_IMAGE_STUB", "maybe")
    with pytest.raises(SettingsError, match="USE_IMAGE_STUB must be true or false"):
        Settings()
    clean_env.delenv("USE_IMAGE_STUB")
    clean_env.setenv("REDIS_PORT", "six")
    with pytest.raises(SettingsError, match="REDIS_PORT must be a whole number, not 'six'"):
        Settings()


@pytest.mark.parametrize("service", ["api", "worker"])
def test_a_conflicting_alias_stops_the_api_and_the_worker_at_start_up(tmp_path, service):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SAGEMAKER_INSTANCE_TYPE": "ml.m5.2xlarge",
           "SM_INSTANCE_TYPE": "ml.g5.xlarge"}
    argv = {
        "api": [sys.executable, "-m", "uvicorn", "--factory", "apps.api.main:create_app", "--port", "0"],
        "worker": [sys.executable, "-m", "celery", "-A", "shared.celery_app", "worker", "-Q", queues.CPU,
                   "--without-gossip", "--without-mingle"],
    }[service]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SAGEMAKER_INSTANCE_TYPE=ml.m5.2xlarge and SM_INSTANCE_TYPE=ml.g5.xlarge" in result.stderr, result.stderr


SEED_DOTENVS = {  # each reference project's .env, as its README gives it
    "s3-3d-asset-workflow": ("S3_BUCKET_NAME=your-3d-assets-bucket\nS3_REGION=us-east-1\nUSE_S3_STORAGE=True\n"
                             "S3_PUBLIC_READ=False\n",
                             {"resolved_object_store_url": "s3://your-3d-assets-bucket", "aws_region": "us-east-1",
                              "s3_public_read": False}),
    "sprint2-envgen": ("ECR_IMAGE_URI=123456789012.dkr.ecr.us-east-1.amazonaws.com/mmf-envgen:sprint2-release\n"
                       "AWS_REGION=us-east-1\nS3_BUCKET=s3://assets-bucket\n"
                       "SAGEMAKER_ROLE_ARN=arn:aws:iam::123456789012:role/SageMakerProcessingRole\n"
                       "SM_INSTANCE_TYPE=ml.m5.xlarge\nSM_VOL_GB=50\nSM_MAX_SEC=1800\n",
                       {"sagemaker_image_uri":
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/mmf-envgen:sprint2-release",
                        "resolved_object_store_url": "s3://assets-bucket", "sagemaker_instance_type": "ml.m5.xlarge",
                        "sagemaker_volume_gb": 50, "sagemaker_max_runtime_s": 1800}),
    "sprint0-scaffolding": ("REDIS_HOST=localhost\nREDIS_PORT=6379\nREDIS_BROKER_DB=0\nREDIS_BACKEND_DB=1\n"
                            "REDIS_STATUS_DB=0\nCORS_ALLOW_ORIGINS=http://localhost:3000\n",
                            {"redis_url": "redis://localhost:6379/0",
                             "resolved_result_backend_url": "redis://localhost:6379/1",
                             "cors_allow_origins": ["http://localhost:3000"]}),
    "multiview-3d-pipeline": ("USE_IMAGE_STUB=true\nFLUX_MODEL=black-forest-labs/FLUX.1-dev\n",
                              {"default_images_provider": "stub", "flux.model_path": "black-forest-labs/FLUX.1-dev"}),
}


@pytest.mark.parametrize("seed", sorted(SEED_DOTENVS))
def test_a_seeds_dotenv_works_alone_and_below_our_env_example(clean_env, tmp_path, seed):
    """Its .env as it stands, then appended to a copy of .env.example (every setting at its default)."""
    text, expected = SEED_DOTENVS[seed]
    for dotenv in (text, (ROOT / ".env.example").read_text() + text):
        (tmp_path / ".env").write_text(dotenv)
        settings = Settings()
        assert {name: _read(settings, name) for name in expected} == expected
