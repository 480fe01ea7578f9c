"""An instant environment: a ground plane and a box, enough to exercise the whole pipeline.

Deterministic and harmless by design: it takes no options. The fault-injection variants the tests and
``make reliability`` use (raise, crash, hang) live in ``tests/faults.py`` and reach a server only through
the ``EXTRA_PROVIDERS`` setting.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shared.providers.base import EnvGenerator


class StubEnvGenerator(EnvGenerator):
    name = "stub"

    def generate(self, ctx, plan: dict[str, Any]) -> None:
        ctx.report(0.5, "scene built")
        ctx.put_artifact("scene.glb", stub_scene_glb(), "model/gltf-binary")


@cache
def stub_scene_glb() -> bytes:
    """The stub's scene, the same every time: built once per process, so a stub stage costs what the
    pipeline around it costs (the figure ``make bench`` reports), not a trimesh export."""
    import trimesh

    scene = trimesh.Scene()
    ground = trimesh.creation.box(extents=(20.0, 0.1, 20.0))
    ground.visual.face_colors = (90, 120, 80, 255)
    scene.add_geometry(ground, node_name="ground", geom_name="ground",
                       transform=trimesh.transformations.translation_matrix((0, -0.05, 0)))
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.visual.face_colors = (180, 90, 60, 255)
    scene.add_geometry(box, node_name="box", geom_name="box",
                       transform=trimesh.transformations.translation_matrix((0, 0.5, 0)))
    return scene.export(file_type="glb")

