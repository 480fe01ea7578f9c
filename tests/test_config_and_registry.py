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
from shared.config import Settings
from shared.errors import UnknownProvider
from shared.providers import registry

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_setting():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


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
