"""Stage scratch folders: made on first use, named after their process, cleared when that process is gone."""

from __future__ import annotations

import os
import subprocess
import sys

from shared.pipeline.context import remove_orphaned_scratch


def test_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    dead = tmp_path / f"mmf-0123abcd-generating_scene-p{dead_pid}-x1y2"
    live = tmp_path / f"mmf-0123abcd-planning-p{os.getpid()}-z3w4"
    unrelated = tmp_path / f"mmf-not-a-stage-folder-p{dead_pid}"
    for folder in (dead, live, unrelated):
        folder.mkdir()
        (folder / "frame.png").write_bytes(b"x")
    assert remove_orphaned_scratch(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and unrelated.exists()


def test_a_stage_makes_its_folder_only_when_asked_and_removes_it(tmp_path):
    from shared.config import get_settings
    from shared.pipeline.context import StageContext
    from tests.stage_jobs import StageJob

    job = StageJob(tmp_path, "env", {"prompt": "a scratch test"}, get_settings(), {"plan": "stub", "env": "stub"})
    ctx = StageContext(job.record, "planning", (0, 10), job.jobs, job.objects, job.settings)
    assert ctx.scratch is None  # nothing made until a stage asks
    folder = ctx.workdir
    assert folder.is_dir() and f"-planning-p{os.getpid()}-" in folder.name and ctx.workdir == folder
    ctx.remove_scratch()
    assert not folder.exists()
