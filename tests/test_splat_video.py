"""Frame extraction of splat jobs: caps refused with clear errors, sampling, blur dropping, image prefixes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from shared.config import Settings
from shared.errors import InvalidRequest
from shared.pipeline.splat import EXTRACT_PROGRESS, extract_frames
from shared.splat.frames import Frame, Sampling, select_frames, sharpness
from shared.splat.sample_video import encode_video
from tests.media import moving_pattern
from tests.stage_jobs import StageJob


class SplatJob(StageJob):
    """A splat job (``train`` provider ``points`` unless told otherwise) in real stores under ``root``."""

    def __init__(self, root: Path, request: dict, settings: Settings, providers: dict | None = None) -> None:
        super().__init__(root, "splat", request, settings, providers or {"train": "points"})


def small_settings(tmp_path: Path, **overrides) -> Settings:
    values = {"data_dir": tmp_path, "splat_frame_rate": 5.0, "splat_max_frames": 20, "splat_frame_max_side": 96,
              "splat_blur_drop_fraction": 0.0, **overrides}
    return Settings(**values)


def video_job(tmp_path: Path, video: bytes | Path, suffix: str = ".mp4", **overrides) -> SplatJob:
    job = SplatJob(tmp_path, {"video": f"videos/uploaded/input{suffix}"}, small_settings(tmp_path, **overrides))
    data = video.read_bytes() if isinstance(video, Path) else video
    job.objects.put_bytes(f"videos/uploaded/input{suffix}", data)
    return job


@pytest.fixture(scope="module")
def three_second_video(tmp_path_factory) -> Path:
    return encode_video(moving_pattern(30), tmp_path_factory.mktemp("video") / "pattern.mp4", fps=10)


def test_video_is_sampled_at_the_rate_and_indexed(tmp_path, three_second_video):
    job = video_job(tmp_path, three_second_video)
    job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)

    index = json.loads(job.objects.get_bytes(f"jobs/{job.job_id}/frames.json"))
    assert index["source"]["width"] == 96 and index["source"]["codec"] == "h264"
    assert 14 <= len(index["frames"]) <= 16  # 3 s at 5 fps
    assert [f["name"] for f in index["frames"]] == [f"frame_{i:04d}.jpg" for i in range(1, len(index["frames"]) + 1)]
    times = [float(f["source"].removesuffix("s")) for f in index["frames"]]
    assert times == sorted(times) and times[1] - times[0] == pytest.approx(0.2, abs=0.01)
    frame = Image.open(io.BytesIO(job.objects.get_bytes(f"jobs/{job.job_id}/frames/frame_0001.jpg")))
    assert frame.size == (96, 64)


def test_long_videos_are_thinned_to_the_cap_over_their_whole_length(tmp_path, three_second_video):
    job = video_job(tmp_path, three_second_video, splat_max_frames=5, splat_frame_max_side=64)
    job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)

    index = json.loads(job.objects.get_bytes(f"jobs/{job.job_id}/frames.json"))
    times = [float(f["source"].removesuffix("s")) for f in index["frames"]]
    assert len(times) == 5 and times[0] == 0.0 and times[-1] >= 2.3
    frame = Image.open(io.BytesIO(job.objects.get_bytes(f"jobs/{job.job_id}/frames/frame_0005.jpg")))
    assert frame.size == (64, 42)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"splat_max_video_duration_s": 1.5}, r"lasts 3\.0 s, over the limit of 1\.5 s"),
    ({"splat_max_video_pixels": 96 * 64 - 1}, r"96x64, over the limit of 6143 pixels"),
    ({"splat_max_video_bytes": 100}, r"bytes, over the limit of 100"),
])
def test_videos_over_a_cap_are_refused_before_decoding(tmp_path, three_second_video, overrides, message):
    job = video_job(tmp_path, three_second_video, **overrides)
    with pytest.raises(InvalidRequest, match=message):
        job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)
    assert job.objects.list(f"jobs/{job.job_id}/") == []


def test_webm_without_a_known_duration_is_capped_while_decoding(tmp_path):
    """A browser's MediaRecorder writes "live" WebM: no duration in the container, so decoding enforces the cap."""
    video = encode_video(moving_pattern(30), tmp_path / "clip.webm", fps=10, codec="libvpx-vp9",
                         container_options={"live": "1"})
    with av.open(str(video)) as container:
        assert container.duration is None and container.streams.video[0].duration is None
    job = video_job(tmp_path, video, suffix=".webm", splat_max_video_duration_s=1.5)
    with pytest.raises(InvalidRequest, match=r"the video lasts over 1\.5 s"):
        job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)


@pytest.mark.parametrize(("data", "message"), [
    (b"definitely not a video " * 100, "not a readable video"),
    ("png", "not an mp4, mov or webm video"),
])
def test_inputs_that_are_not_videos_are_refused(tmp_path, data, message):
    if data == "png":
        out = io.BytesIO()
        Image.new("RGB", (64, 48), "red").save(out, "PNG")
        data = out.getvalue()
    job = video_job(tmp_path, data)
    with pytest.raises(InvalidRequest, match=message):
        job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)


def test_a_job_without_input_is_refused(tmp_path):
    job = SplatJob(tmp_path, {}, small_settings(tmp_path))
    with pytest.raises(InvalidRequest, match="needs a video or a frames_prefix"):
        job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)


def test_frames_prefix_keeps_natural_order_and_skips_other_files(tmp_path):
    job = SplatJob(tmp_path, {"frames_prefix": "captures/desk/"}, small_settings(tmp_path))
    for i, rgb in enumerate(moving_pattern(11), 1):
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, "PNG")
        job.objects.put_bytes(f"captures/desk/shot_{i}.png", out.getvalue())
    job.objects.put_bytes("captures/desk/notes.txt", b"not a frame")
    job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)

    index = json.loads(job.objects.get_bytes(f"jobs/{job.job_id}/frames.json"))
    assert [f["source"] for f in index["frames"]] == [f"captures/desk/shot_{i}.png" for i in range(1, 12)]
    assert index["source"] == {"frames_prefix": "captures/desk/", "images": 11}


def test_the_blurriest_fraction_is_dropped_and_the_rest_thinned_evenly():
    sharp = [Frame(Path(f"{i}.jpg"), f"{i}", 100.0 + i) for i in range(10)]
    sharp[3] = Frame(Path("3.jpg"), "3", 1.0)
    sharp[7] = Frame(Path("7.jpg"), "7", 2.0)
    kept, dropped = select_frames(sharp, Sampling(2.0, 4, 100, 0.2))
    assert dropped == 2
    assert [f.source for f in kept] == ["0", "2", "6", "9"]  # of 0 1 2 4 5 6 8 9, evenly
    with pytest.raises(InvalidRequest, match="only 2 frame"):
        select_frames(sharp[:2], Sampling(2.0, 4, 100, 0.2))


def test_sharpness_ranks_a_blurred_frame_below_the_original():
    rgb = moving_pattern(1, (64, 64))[0].astype(np.float32)
    blurred = (rgb + np.roll(rgb, 1, 0) + np.roll(rgb, 1, 1) + np.roll(rgb, (1, 1), (0, 1))) / 4
    assert sharpness(blurred) < 0.5 * sharpness(rgb)


def test_a_frames_prefix_without_images_is_refused(tmp_path):
    job = SplatJob(tmp_path, {"frames_prefix": "captures/empty/"}, small_settings(tmp_path))
    job.objects.put_bytes("captures/empty/readme.txt", b"no frames here")
    with pytest.raises(InvalidRequest, match=r"no \.jpg, \.jpeg, \.png frames under 'captures/empty/'"):
        job.run("extracting_frames", EXTRACT_PROGRESS, extract_frames)
