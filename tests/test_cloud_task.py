"""A stage whose provider is a cloud provider runs in the one cloud task, on a real worker.

The session's worker (all three queues) has no SageMaker configured, so the job's cloud stage must fail
there, saying why, after the stage before it ran on the CPU queue: the chain named the cloud task with
the stage, the worker knows that task, and its failure is recorded like any stage's.
"""

from __future__ import annotations

import pytest

from shared.celery_app import app
from shared.config import get_settings
from shared.jobs import Status, get_job_store
from shared.jobs.base import new_job_record
from shared.pipeline import chains
from tests.conftest import TERMINAL, poll
from workers.cloud.tasks import run_cloud_stage

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


@pytest.fixture
def cloud_job():
    """Makes running env jobs whose scene stage is the countdown cloud provider's (``tests/faults.py``), and
    ends them afterwards: only their scene stage runs here, and a job left running would count as in flight
    for the tests after this one."""
    made: list[str] = []

    def make(polls: int, transient_polls: list[int]) -> str:
        options = {"env": {"polls": polls, "transient_polls": transient_polls}}
        record = new_job_record("env", {"kind": "env", "prompt": "a countdown", "options": options},
                                {"plan": "stub", "env": "countdown_cloud"})
        get_job_store().create(record)
        get_job_store().transition(record["job_id"], Status.RUNNING, stage="planning")
        made.append(record["job_id"])
        return record["job_id"]

    yield make
    for job_id in made:
        get_job_store().transition(job_id, Status.CANCELED, message="the test is over")


def test_polls_of_a_long_cloud_job_do_not_use_up_the_retries_a_transient_fault_gets(cloud_job):
    """Nine polls (more retries than TRANSIENT_MAX_RETRIES allows faults), one dropped connection at the
    seventh: the fault is retried like any transient fault and the stage finishes."""
    assert get_settings().transient_max_retries < 9
    job_id = cloud_job(polls=9, transient_polls=[7])

    result = run_cloud_stage.apply(args=(job_id, "generating_scene"))

    assert result.successful(), result.traceback
    job = get_job_store().require(job_id)
    assert job["details"]["countdown_polls"] == 9
    assert "generating_scene" in job["timings"] and f"countdown-{job_id} finished" in job["notes"]


def test_a_cloud_stage_still_fails_once_its_transient_faults_pass_the_limit(cloud_job):
    limit = get_settings().transient_max_retries
    job_id = cloud_job(polls=limit + 5, transient_polls=list(range(2, limit + 3)))

    result = run_cloud_stage.apply(args=(job_id, "generating_scene"))

    assert result.failed() and isinstance(result.result, ConnectionError)
    assert get_job_store().require(job_id)["details"]["countdown_polls"] == limit + 2
