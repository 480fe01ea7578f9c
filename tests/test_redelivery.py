"""A finished stage delivered again is not run again (real redis and worker).

Celery can lose the ack of a task that finishes during a warm shutdown (celery/celery#3802): the
message comes back although the stage is done and its successor was sent. The stage must see that
and skip, so the issue's "finished tasks are not re-run" holds whatever the broker does.
"""

from __future__ import annotations

import pytest
from celery.result import AsyncResult

from infra.local.stack import wait_until
from shared.celery_app import app
from shared.jobs import get_job_store
from shared.jobs.base import new_job_record
from shared.pipeline import chains
from tests.conftest import wait_for_status

pytestmark = pytest.mark.usefixtures("worker")


def test_a_finished_stage_delivered_again_is_skipped_and_its_chain_not_repeated(client):
    request = {"kind": "env", "prompt": "a harbour told once", "use_cache": False, "options": {"env": {"sleep_s": 2}}}
    job = new_job_record("env", request, {"plan": "stub", "env": "faults"})
    job_id = job["job_id"]
    job["celery_task_ids"] = chains.task_ids("env", job_id)
    get_job_store().create(job)
    chains.enqueue(app, job)
    wait_until(lambda: "planning" in get_job_store().get(job_id)["timings"], 30, "the planning stage to finish")

    chains.enqueue(app, job)  # the planning message again, carrying the rest of the chain, as a lost ack leaves it
    plan_task = AsyncResult(chains.task_id(job_id, "orchestrator.plan"), app=app)
    wait_until(lambda: plan_task.state == "IGNORED", 30, "the redelivered planning stage to be skipped")
    assert "has already finished" in plan_task.result["skipped"], plan_task.result

    done = wait_for_status(client, job_id)
    assert done["status"] == "completed", done
    # Every stage ran once: the skipped delivery neither re-planned nor sent a second scene stage.
    assert done["attempts"] == {"planning": 1, "generating_scene": 1, "finalizing": 1}, done["attempts"]
