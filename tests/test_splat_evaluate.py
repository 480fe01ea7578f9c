"""The held-out split and the quality verdict every splat job gets, on hand-made reports."""

from __future__ import annotations

from shared.splat.artifacts import heldout_names
from shared.splat.evaluate import verdict

GOOD_SFM = {"registered": 48, "points": 5200}
GOOD_TRAINING = {"iterations": 1500, "stopped_by": "iterations"}


def test_every_eighth_registered_frame_is_held_out_in_capture_order():
    names = [f"frame_{i:04d}.jpg" for i in range(20, 0, -1)]
    assert heldout_names(names, 8) == ["frame_0001.jpg", "frame_0009.jpg", "frame_0017.jpg"]
    assert heldout_names(names[:3], 8) == ["frame_0018.jpg"]  # even three frames keep one back


def test_a_score_over_the_floor_is_not_poor():
    assert verdict({"heldout_psnr": 27.0, "train_psnr": 28.0}, GOOD_SFM, GOOD_TRAINING, 20.0) == []


def test_a_poor_score_names_its_likely_causes():
    reasons = verdict({"heldout_psnr": 14.0, "train_psnr": 24.5}, {"registered": 9, "points": 120},
                      {"iterations": 40, "stopped_by": "time budget"}, 20.0)
    assert reasons[0] == "held-out PSNR 14.0 dB is under the 20.0 dB floor"
    assert any("too few frames" in r for r in reasons)
    assert any("120 SfM points" in r for r in reasons)
    assert any("too little overlap" in r for r in reasons)  # training frames 10.5 dB better
    assert any("too short a budget" in r for r in reasons)


def test_a_poor_score_from_a_long_enough_run_blames_only_what_applies():
    reasons = verdict({"heldout_psnr": 19.0, "train_psnr": 20.0}, GOOD_SFM,
                      {"iterations": 900, "stopped_by": "time budget"}, 20.0)
    assert reasons == ["held-out PSNR 19.0 dB is under the 20.0 dB floor",
                       "training stopped at its time budget (a longer budget may help)"]


def test_no_held_out_frame_is_poor_too():
    reasons = verdict({"heldout_psnr": None, "train_psnr": 25.0}, GOOD_SFM, GOOD_TRAINING, 20.0)
    assert reasons and "no frame could be held out" in reasons[0]
