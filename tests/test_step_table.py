"""The step table (``shared.pipeline.steps``) is the one list of stages: everything derived from it
exists, and every task a chain can name is registered in the Celery app the workers run."""

from __future__ import annotations

import inspect
from itertools import pairwise
from typing import get_args

import pytest

from shared import queues
from shared.celery_app import TASK_ROUTES, app
from shared.jobs.base import new_job_record
from shared.pipeline import runner
from shared.pipeline.chains import step_signatures, task_ids
from shared.pipeline.steps import BY_STAGE, FIRST_STEPS, PIPELINES, PROVIDER_STAGES, STEPS
from shared.providers.cloud import CLOUD_TASK, CloudProvider
from shared.providers.registry import PROVIDERS, provider_class


@pytest.fixture(scope="module")
def registered_tasks() -> set[str]:
    """The task names a worker of ``shared.celery_app`` knows (its ``include`` modules imported, as a worker does)."""
    app.loader.import_default_modules()
    return set(app.tasks)


def _routed_queue(task: str) -> str:
    group = task.partition(".")[0]
    return TASK_ROUTES[f"{group}.*"]["queue"]


def test_every_steps_task_is_registered_and_routed(registered_tasks):
    for step in STEPS:
        assert step.task in registered_tasks, step
        assert _routed_queue(step.task) in queues.ALL_QUEUES


def test_every_providers_task_is_registered_and_its_queue_known(registered_tasks):
    for stage, name in PROVIDERS:
        cls = provider_class(stage, name)
        assert cls.queue in queues.ALL_QUEUES, (stage, name)
        if cls.task is not None:
            assert cls.task in registered_tasks, (stage, name, cls.task)
    clouds = [provider_class(*key) for key in PROVIDERS if issubclass(provider_class(*key), CloudProvider)]
    assert {(cls.stage, cls.task, cls.queue) for cls in clouds} == {
        ("env", CLOUD_TASK, queues.SAGEMAKER), ("reconstruct", CLOUD_TASK, queues.SAGEMAKER)}
    assert _routed_queue(CLOUD_TASK) == queues.SAGEMAKER


def test_every_step_names_a_stage_function_and_a_known_provider_stage():
    for step in STEPS:
        work = step.function()
        assert list(inspect.signature(work).parameters) == ["ctx"], step
        if step.provider_stage is not None:
            assert any(stage == step.provider_stage for stage, _ in PROVIDERS), step
        low, high = step.progress
        assert 0 <= low < high <= 100, step


def test_stage_names_are_unique_and_each_kind_moves_forward():
    assert len(BY_STAGE) == len(STEPS)
    for kind, steps in PIPELINES.items():
        assert steps[-1].stage == "finalizing" and steps[-1].progress[1] == 100, kind
        assert steps[0].progress[0] == 0, kind
        for before, after in pairwise(steps):
            assert before.progress[1] <= after.progress[0], (kind, before.stage, after.stage)
        # A step that claims the job (the first) is first wherever it appears.
        assert [step in FIRST_STEPS for step in steps] == [True] + [False] * (len(steps) - 1), kind


def test_derived_maps_agree_with_the_table():
    assert PROVIDER_STAGES == {
        "env": ("plan", "env"), "text_to_3d": ("images", "reconstruct"), "image_to_3d": ("reconstruct",),
        "splat": ("train",)}
    job = {"providers": {"reconstruct": "relief", "train": "cpu"}}
    assert runner.stage_provider(job, "reconstructing_3d") == "relief"
    assert runner.stage_provider(job, "training_splats") == "cpu"
    assert runner.stage_provider(job, "post_processing") is None

    from apps.api.routes.compat import ASSET_KINDS, RUNNING_STATES, CompatState

    assert all(step.compat_state is not None for kind in ASSET_KINDS for step in PIPELINES[kind])
    assert set(RUNNING_STATES.values()) <= set(get_args(CompatState))
    assert RUNNING_STATES["normalizing_images"] == "generating_images"
    assert RUNNING_STATES["finalizing"] == "post_processing"


@pytest.mark.parametrize("kind, providers", [
    ("env", {"plan": "stub", "env": "stub"}),
    ("text_to_3d", {"images": "stub", "reconstruct": "stub"}),
    ("image_to_3d", {"reconstruct": "relief"}),
    ("splat", {"train": "points"}),
])
def test_a_chain_runs_its_kinds_steps_in_order_by_task_name(registered_tasks, kind, providers):
    record = new_job_record(kind, {"kind": kind}, providers, job_id="job-" + kind.replace("_", "-"))
    signatures = step_signatures(app, record)
    assert [s.task for s in signatures] == [step.task for step in PIPELINES[kind]]
    assert [s.options["task_id"] for s in signatures] == task_ids(kind, record["job_id"])
    assert all(s.args == (record["job_id"],) and s.task in registered_tasks for s in signatures)
