"""A stage whose provider is a cloud provider runs in the one cloud task, on a real worker.

The session's worker (all three queues) has no SageMaker configured, so the job's cloud stage must fail
there, saying why, after the stage before it ran on the CPU queue: the chain named the cloud task with
the stage, the worker knows that task, and its failure is recorded like any stage's.
"""

from __future__ import annotations

import pytest

from shared.celery_app import app
from shared.jobs import get_job_store
from shared.jobs.base import new_job_record
from shared.pipeline import chains
from tests.conftest import TERMINAL, poll

pytestmark = pytest.mark.usefixtures("worker")


def test_a_cloud_stage_runs_in_the_cloud_task_and_fails_clearly_where_the_cloud_is_not_configured():
    request = {"kind": "env", "prompt": "a cave in the cloud", "seed": 1, "options": {"env": {"provider": "stub"}}}
    record = new_job_record("env", request, {"plan": "stub", "env": "sagemaker"})
    record["celery_task_ids"] = chains.task_ids("env", record["job_id"])
    jobs = get_job_store()
    jobs.create(record)
    chains.enqueue(app, record)

    job = poll(lambda: jobs.get(record["job_id"]), lambda j: j["status"] in TERMINAL, 60,
               f"job {record['job_id']} to end")

    assert job["status"] == "failed"
    assert (job["error"]["stage"], job["error"]["code"]) == ("generating_scene", "provider_error")
    assert "the sagemaker provider needs an S3 object store" in job["error"]["message"]
    assert "plan.json" in job["artifacts"] and "generating_scene" not in job["timings"]
    assert "cloud_jobs" not in job["details"]  # nothing was submitted
