"""New jobs recorded and sent in batches (``shared/pipeline/submission.py``), on a real redis-server.

The Celery app here is ours (``celery_config``) on a redis-server of this module's own, which no
worker reads: every message sent stays where it landed, and the server's command counts are ours.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import pytest
import redis
from celery import Celery

from infra.local import stack
from infra.local.stack import free_port
from shared.broker_transport import captured_messages
from shared.celery_app import celery_config
from shared.config import get_settings
from shared.jobs import DuplicateJob, Status
from shared.jobs.base import new_job_record
from shared.jobs.sqlite import SQLiteJobStore
from shared.pipeline import chains
from shared.pipeline.submission import JobSender, NotSent, Submissions, record_and_send

PROVIDER_SETS = [
    ("env", {"plan": "stub", "env": "stub"}),
    ("env", {"plan": "rules", "env": "sagemaker"}),  # the scene on the sagemaker queue
    ("text_to_3d", {"images": "sdxl", "reconstruct": "triposr"}),  # two GPU steps
    ("image_to_3d", {"reconstruct": "relief"}),
    ("splat", {"train": "gsplat"}),
]


def app_on(redis_url: str) -> Celery:
    app = Celery("mmf-submission-test", set_as_current=False)
    app.conf.update(celery_config(get_settings().model_copy(update={"redis_url": redis_url})))
    return app


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    port = free_port()
    service = stack.start_redis(port, tmp_path_factory.mktemp("redis"), dict(os.environ))
    yield f"redis://127.0.0.1:{port}/0"
    service.stop()


@pytest.fixture
def isolated(own_redis):
    """Our Celery app on that server, emptied; yields (app, client)."""
    client = redis.Redis.from_url(own_redis)
    client.flushall()
    client.config_resetstat()
    return app_on(own_redis), client


@pytest.fixture
def store(tmp_path) -> SQLiteJobStore:
    return SQLiteJobStore(tmp_path / "jobs.sqlite3")


def new_job(kind: str = "env", providers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    providers = providers or {"plan": "stub", "env": "stub"}
    job = new_job_record(kind, {"kind": kind, "prompt": "a test"}, providers, owner=fields.pop("owner", ""),
                         **fields)
    job["celery_task_ids"] = chains.task_ids(kind, job["job_id"])
    return job


def decoded(messages: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any], Any, str]]:
    """(list key, envelope without body and delivery tag, body, delivery tag) of each message."""
    result = []
    for key, payload in messages:
        envelope = json.loads(payload)
        body = json.loads(base64.b64decode(envelope.pop("body")))
        tag = envelope["properties"].pop("delivery_tag")
        result.append((key, envelope, body, tag))
    return result


def commands_run(client: redis.Redis, command: str) -> int:
    return client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)


@pytest.mark.parametrize(("kind", "providers"), PROVIDER_SETS)
def test_a_rendered_message_is_the_one_celery_sends(isolated, kind, providers):
    app, _ = isolated
    job = new_job(kind, providers)
    with captured_messages() as sent_by_celery:
        chains.enqueue(app, job)
    rendered = JobSender(app).template(new_job(kind, providers)).render(job["job_id"])
    celery, ours = decoded(sent_by_celery), decoded(rendered)
    assert [message[:3] for message in ours] == [message[:3] for message in celery]
    assert ours[0][0] == chains.step_signatures(app, job)[0].options.get("queue", "cpu_tasks")
    assert job["job_id"] in ours[0][2][0]  # the task's argument is this job, not the template's


def test_every_rendered_message_has_a_delivery_tag_of_its_own(isolated):
    app, _ = isolated
    template = JobSender(app).template(new_job())
    tags = [decoded(template.render(new_job()["job_id"]))[0][3] for _ in range(50)]
    assert len(set(tags)) == 50


def test_a_batch_is_one_insert_and_one_push(isolated, store):
    app, client = isolated
    jobs = [new_job() for _ in range(40)]
    pushes = commands_run(client, "lpush")
    assert record_and_send(store, JobSender(app), jobs) == [None] * 40
    assert commands_run(client, "lpush") == pushes + 1
    assert client.llen("cpu_tasks") == 40
    sent = [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in client.lrange("cpu_tasks", 0, -1)]
    assert sorted(sent) == sorted(job["job_id"] for job in jobs)
    assert all(store.get(job["job_id"])["status"] == Status.QUEUED for job in jobs)
    # The worker takes from the right: the first job of the batch is the first out.
    assert json.loads(base64.b64decode(json.loads(client.rpop("cpu_tasks"))["body"]))[0][0] == jobs[0]["job_id"]


def test_a_repeated_idempotency_key_is_reported_and_not_sent(isolated, store):
    app, client = isolated
    first = new_job(idempotency_key="k", request_hash="h")
    again = new_job(idempotency_key="k", request_hash="h")
    outcomes = record_and_send(store, JobSender(app), [first, again, new_job()])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], DuplicateJob) and outcomes[1].job["job_id"] == first["job_id"]
    assert store.get(again["job_id"]) is None
    assert client.llen("cpu_tasks") == 2


def test_a_broker_that_is_down_fails_the_jobs_it_could_not_take(store):
    app = app_on(f"redis://127.0.0.1:{free_port()}/0")
    app.conf.broker_connection_retry = False
    app.conf.broker_transport_options = {"max_retries": 0}
    jobs = [new_job(), new_job()]
    outcomes = record_and_send(store, JobSender(app), jobs)
    assert all(isinstance(outcome, NotSent) for outcome in outcomes)
    for job in jobs:
        recorded = store.get(job["job_id"])
        assert recorded["status"] == Status.FAILED and recorded["error"]["stage"] == "queued"


def test_jobs_the_store_could_not_record_are_not_sent(isolated, tmp_path):
    app, client = isolated
    (tmp_path / "not-a-folder").write_text("")
    unwritable = SQLiteJobStore(tmp_path / "not-a-folder" / "jobs.sqlite3")
    outcomes = record_and_send(unwritable, JobSender(app), [new_job(), new_job(idempotency_key="k")])
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert client.llen("cpu_tasks") == 0


def test_submissions_arriving_together_share_batches(isolated, store):
    app, client = isolated
    submissions = Submissions(store, JobSender(app))
    jobs = [new_job() for _ in range(60)]
    pushes = commands_run(client, "lpush")

    async def submit_all() -> None:
        await asyncio.gather(*(submissions.submit(job) for job in jobs))

    asyncio.run(submit_all())
    assert client.llen("cpu_tasks") == 60
    assert all(store.get(job["job_id"]) is not None for job in jobs)
    # All sixty were waiting when the writer started: one transaction, one push.
    assert commands_run(client, "lpush") - pushes == 1


def test_a_submission_learns_of_its_own_duplicate(isolated, store):
    app, _ = isolated
    submissions = Submissions(store, JobSender(app))
    first = new_job(idempotency_key="same", request_hash="h")

    async def submit_twice() -> None:
        await submissions.submit(first)
        with pytest.raises(DuplicateJob) as duplicate:
            await submissions.submit(new_job(idempotency_key="same", request_hash="h"))
        assert duplicate.value.job["job_id"] == first["job_id"]

    asyncio.run(submit_twice())


def test_an_idempotency_hash_ignores_fields_added_since_while_they_are_unset():
    """A key bound before ``with_texture`` existed must still match the same request sent after."""
    import hashlib
    import json

    from shared.pipeline.service import request_hash
    from shared.schemas.api import JobCreate

    body = JobCreate(kind="text_to_3d", prompt="a red chair")
    before = body.model_dump(mode="json", exclude={"with_texture"})
    assert request_hash(body) == hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()
    assert request_hash(JobCreate(kind="text_to_3d", prompt="a red chair", with_texture=False)) != request_hash(body)
