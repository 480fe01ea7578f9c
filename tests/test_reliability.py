"""Fault scenarios at small N: each on its own redis, worker and API (``infra/reliability/scenarios.py``).

``make reliability`` runs the same functions at N >= 50 and writes ``docs/reliability.md``.
"""

from __future__ import annotations

import pytest

from infra.reliability import scenarios

N = 10
pytestmark = pytest.mark.timeout(240)  # past the scenarios' own 180 s wait, so they report


def test_worker_child_sigkill_loses_nothing():
    result = scenarios.worker_child_killed(N, kills=2)
    assert result["lost"] == 0, result
    assert result["completed"] == N, result
    assert result["kills"] >= 1 and result["worker_alive"], result
    assert result["reruns"] >= 1, result  # a kill hit a stage mid-run, and that stage ran again
    assert result["anomalies"] == [], result  # every artifact once, as recorded; no status went backwards


def test_warm_shutdown_loses_nothing_and_writes_nothing_twice():
    result = scenarios.warm_shutdown(N)
    assert result["lost"] == 0, result
    assert result["completed"] == N, result
    # Warm shutdown finishes what runs; a finished stage whose ack Celery then loses comes back and is
    # skipped (tests/test_redelivery.py), so no stage's work runs twice.
    assert result["reruns"] == 0, result
    assert result["anomalies"] == [], result
    assert result["first_worker_exit"] == 0, result


def test_redis_restart_recovers_and_reconciler_resends_lost_jobs():
    result = scenarios.redis_restart(N)
    assert result["lost"] == 0, result
    assert result["worker_alive"], result  # the API's recovery is waited for by the scenario itself
    assert result["completed_after_restart"] == N - N // 2, result  # submitted after the restart: all complete
    assert result["requeued"] >= 1, result  # queued jobs whose messages died with redis were sent again
    assert result["completed"] == N and result["anomalies"] == [], result


def test_soft_time_limit_fails_the_stage_cleanly_and_worker_keeps_serving():
    result = scenarios.time_limits(N, slow=2)
    assert result["lost"] == 0, result
    assert result["slow_failed"] == 2 and result["fast_completed"] == N - 2, result
    for error in result["slow_errors"]:
        assert error["type"] == "SoftTimeLimitExceeded" and error["stage"] == "generating_scene", error
    assert result["scratch_left"] == [] and result["worker_alive"], result


def test_hard_time_limit_fails_the_job_and_the_worker_keeps_serving():
    result = scenarios.hard_time_limit(N, slow=2)
    assert result["lost"] == 0, result  # nothing left running
    assert result["slow_failed"] == 2 and result["fast_completed"] == N - 2, result
    for error in result["slow_errors"]:
        assert error["type"] == "TimeLimitExceeded" and error["code"] == "time_limit", error
        assert error["stage"] == "generating_scene" and "6 s hard" in error["message"], error
    assert result["slow_attempts"] == [1, 1], result  # failed, not delivered again
    assert result["pool_replaced"] == 2 and result["worker_alive"], result
    assert result["scratch_left"] == [], result  # the killed stages' folders, cleared by their replacements
    assert result["anomalies"] == [], result


def test_jobs_canceled_while_queued_never_run_across_a_worker_restart():
    result = scenarios.canceled_while_queued(N)
    assert result["lost"] == 0 and result["cancel_refused"] == 0, result
    assert result["canceled"] == N // 2 and result["canceled_ran"] == [], result
    assert result["canceled_skipped"] == N // 2, result  # the new worker got each message and skipped it
    assert result["others_completed"] == N - N // 2 + 2, result
    assert result["first_worker_exit"] == 0 and result["anomalies"] == [], result


def test_finished_jobs_reported_after_celery_results_expire():
    result = scenarios.results_expired(N)
    assert result["lost"] == 0, result
    assert result["completed"] == N and result["reported_wrong"] == 0, result
    assert result["manifests_served"] == N, result
