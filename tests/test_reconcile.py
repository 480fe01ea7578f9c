"""The reconciler against a real Redis and worker: lost queued jobs are sent again, dead running
jobs are failed, and jobs whose messages the broker still holds are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.broker import get_redis
from shared.celery_app import app
from shared.jobs import Status, get_job_store
from shared.jobs.base import new_job_record
from shared.pipeline import chains
from shared.pipeline.reconcile import broker_task_ids, reconcile
from tests.conftest import wait_for_status

pytestmark = pytest.mark.usefixtures("worker")
LATER = datetime.now(UTC) + timedelta(hours=1)


def stored_job(task_ids: list[str] | None = None, **request) -> dict:
    request = {"kind": "env", "prompt": "reconcile me", "use_cache": False, **request}
    record = new_job_record("env", request, {"plan": "stub", "env": "stub"})
    record["celery_task_ids"] = task_ids or chains.task_ids("env", record["job_id"])
    get_job_store().create(record)
    return record


def test_a_queued_job_the_broker_lost_is_sent_again_and_completes(client):
    lost = stored_job()  # recorded, but its chain never reached Redis: what a Redis restart leaves behind
    report = reconcile(get_job_store(), app, get_redis(), now=LATER)
    assert lost["job_id"] in report.requeued
    assert wait_for_status(client, lost["job_id"])["status"] == "completed"


def test_jobs_whose_messages_are_in_the_broker_are_left_alone(client):
    from infra.local.stack import wait_until

    waiting = stored_job()
    # Held by the worker until its ETA, unacknowledged: the broker has it, the job is still queued.
    chains.enqueue(app, waiting, countdown=3)
    first_task = waiting["celery_task_ids"][0]
    wait_until(lambda: first_task in broker_task_ids(get_redis()), 10, "the delayed message in the broker")
    report = reconcile(get_job_store(), app, get_redis(), now=LATER)
    assert waiting["job_id"] not in report.requeued
    assert wait_for_status(client, waiting["job_id"])["status"] == "completed"


def test_a_running_job_whose_messages_died_resumes_from_its_first_unfinished_stage(client):
    from shared.pipeline import env
    from shared.pipeline.runner import run_stage

    job_id = stored_job()["job_id"]
    # Its planning stage ran and finished; the message of the next stage died with Redis.
    run_stage(job_id, "planning", env.PLAN_PROGRESS, env.plan_scene, first=True)
    fresh = reconcile(get_job_store(), app, get_redis())
    assert job_id not in fresh.resumed + fresh.failed  # its heartbeat is recent: maybe still working
    report = reconcile(get_job_store(), app, get_redis(), now=LATER)
    assert report.resumed == [job_id] and job_id not in report.failed, report
    done = wait_for_status(client, job_id)
    assert done["status"] == "completed", done
    assert done["attempts"] == {"planning": 1, "generating_scene": 1, "finalizing": 1}, done["attempts"]


def test_a_running_workflow_item_without_heartbeat_or_message_fails_as_worker_lost(client):
    # An S3 workflow item runs inside its batch's task, not as a chain the store could re-send.
    dead = stored_job(task_ids=["some-batch:0"])
    jobs = get_job_store()
    jobs.transition(dead["job_id"], Status.RUNNING, stage="generating_scene")
    report = reconcile(jobs, app, get_redis(), now=LATER)
    assert dead["job_id"] in report.failed and dead["job_id"] not in report.resumed
    job = client.get(f"/v1/generations/{dead['job_id']}").json()
    assert job["status"] == "failed" and job["error"]["code"] == "worker_lost"


def test_a_running_stage_heartbeats_while_it_works(monkeypatch):
    from infra.local.stack import wait_until
    from shared.config import get_settings
    from shared.pipeline.runner import run_stage

    monkeypatch.setattr(get_settings(), "heartbeat_interval_s", 0.02)
    job = stored_job()
    jobs = get_job_store()

    def silent_work(ctx) -> str:
        before = jobs.get(ctx.job_id)["updated_at"]
        wait_until(lambda: jobs.get(ctx.job_id)["updated_at"] != before, 10, "a heartbeat")
        return "beaten"

    assert run_stage(job["job_id"], "planning", (0, 10), silent_work, first=True) == "beaten"
