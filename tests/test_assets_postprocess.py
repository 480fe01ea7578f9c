"""Post-processing through real stage contexts: clean-up, decimation with colours kept, every export format."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageDraw

from shared.assets.formats import fbx_available, model_artifact_name
from shared.assets.postprocess import clean, finish_parts, flattened, mesh_qa, scene_qa
from shared.assets.relief import single_view_mesh
from shared.assets.views import View
from shared.config import Settings
from shared.errors import FormatUnavailable
from shared.pipeline.assets import POSTPROCESS_PROGRESS, RECONSTRUCTION, post_process
from tests.stage_jobs import StageJob


def two_tone_sphere() -> trimesh.Trimesh:
    """20,480 faces, red above the equator and blue below (linear vertex colours)."""
    sphere = trimesh.creation.icosphere(subdivisions=5)
    colours = np.where(sphere.vertices[:, 1:2] > 0, [200, 10, 10, 255], [10, 10, 200, 255]).astype(np.uint8)
    sphere.visual = trimesh.visual.ColorVisuals(sphere, vertex_colors=colours)
    return sphere


def textured_relief() -> trimesh.Trimesh:
    """The relief of a half-red, half-blue disc: ~25k faces, planar UVs, the picture as texture."""
    picture = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.pieslice([14, 14, 113, 113], 90, 270, fill=(220, 20, 20, 255))  # the left half
    draw.pieslice([14, 14, 113, 113], 270, 90, fill=(20, 20, 220, 255))
    return single_view_mesh(View("view_0.png", picture, 0.0), 128, 0.0)


def processed(tmp_path: Path, mesh: trimesh.Trimesh, output_format: str = "glb", **overrides) -> StageJob:
    settings = Settings(**{"data_dir": tmp_path, "asset_texture_size": 128, **overrides})
    job = StageJob(tmp_path, "image_to_3d", {"images": ["images/uploaded/x.png"], "output_format": output_format},
                   settings, {"reconstruct": "relief"})
    job.objects.put_bytes(f"jobs/{job.job_id}/{RECONSTRUCTION}", mesh.export(file_type="glb"))
    job.run("post_processing", POSTPROCESS_PROGRESS, post_process)
    return job


def load_back(job: StageJob, output_format: str, folder: Path) -> trimesh.Trimesh:
    data = job.artifact(model_artifact_name(output_format))
    if output_format == "obj":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(folder)
        return trimesh.load(folder / "model.obj", force="mesh")
    return trimesh.load(io.BytesIO(data), file_type=output_format, force="mesh")


def fbx_polygons(data: bytes) -> int:
    """Polygons in a binary FBX, read from its PolygonVertexIndex arrays (a negative index ends a polygon).

    A reader of our own: assimp's importer (5.2) cannot read the FBX 7.5 files its exporter writes,
    while Blender and the FBX SDK can; walking the node records also checks every offset in the file.
    """
    assert data.startswith(b"Kaydara FBX Binary  \x00\x1a\x00")
    wide = struct.unpack_from("<I", data, 23)[0] >= 7500
    head, size = ("<QQQ", 24) if wide else ("<III", 12)
    polygons = 0

    def walk(offset: int, stop: int) -> None:
        nonlocal polygons
        while offset < stop:
            end, _, props_length = struct.unpack_from(head, data, offset)
            if end == 0:
                return
            assert offset < end <= stop
            name_length = data[offset + size]
            name = data[offset + size + 1:offset + size + 1 + name_length]
            props = offset + size + 1 + name_length
            if name == b"PolygonVertexIndex":
                assert data[props:props + 1] == b"i"
                count, encoding, stored = struct.unpack_from("<III", data, props + 1)
                raw = data[props + 13:props + 13 + stored]
                values = np.frombuffer(zlib.decompress(raw) if encoding else raw, dtype="<i4", count=count)
                polygons += int((values < 0).sum())
            walk(props + props_length, end)
            offset = end

    walk(27, len(data))
    return polygons


@pytest.mark.parametrize("output_format", ["glb", "obj", "ply", "stl"])
@pytest.mark.parametrize("source", ["vertex-coloured", "textured"])
def test_every_format_loads_back_with_the_expected_face_count(tmp_path, output_format, source):
    mesh = two_tone_sphere() if source == "vertex-coloured" else textured_relief()
    job = processed(tmp_path, mesh, output_format, asset_face_budget_standard=3000)

    qa = job.record["details"]["mesh"]
    assert qa["decimated"] and qa["source_faces"] > 20_000 and 2500 <= qa["faces"] <= 3000
    assert qa["model"] == model_artifact_name(output_format) and qa["face_budget"] == 3000
    back = load_back(job, output_format, tmp_path / "back")
    assert len(back.faces) == qa["faces"]
    glb = load_back(job, "glb", tmp_path / "glb")
    assert len(glb.faces) == qa["faces"]
    assert qa["watertight"]
    if output_format == "obj" and source == "textured":
        names = zipfile.ZipFile(io.BytesIO(job.artifact("model.obj.zip"))).namelist()
        assert "model.obj" in names and "model.mtl" in names and any(n.endswith(".png") for n in names)
        assert back.visual.kind == "texture"
    if output_format == "ply":
        assert back.visual.kind == "vertex"


def test_fbx_is_written_when_the_converter_is_here_and_refused_clearly_when_not(tmp_path):
    sphere = two_tone_sphere()
    with pytest.raises(FormatUnavailable, match=r"converter 'no-such-converter'.*this server does not have"):
        processed(tmp_path / "none", sphere, "fbx", asset_fbx_converter="no-such-converter")
    assert not fbx_available(Settings(data_dir=tmp_path, asset_fbx_converter="no-such-converter"))
    if fbx_available(Settings(data_dir=tmp_path)):
        job = processed(tmp_path / "assimp", sphere, "fbx")
        assert fbx_polygons(job.artifact("model.fbx")) == job.record["details"]["mesh"]["faces"] == len(sphere.faces)
    else:
        with pytest.raises(FormatUnavailable):
            processed(tmp_path / "assimp", sphere, "fbx")


def test_decimated_vertex_colours_stay_where_they_were(tmp_path):
    job = processed(tmp_path, two_tone_sphere(), asset_face_budget_standard=1000)
    mesh = load_back(job, "glb", tmp_path)
    colours = mesh.visual.vertex_colors[:, :3].astype(int)
    top, bottom = mesh.vertices[:, 1] > 0.1, mesh.vertices[:, 1] < -0.1
    assert (colours[top, 0] > 150).all() and (colours[bottom, 2] > 150).all()


def test_a_decimated_textured_mesh_gets_a_new_atlas_with_its_colours(tmp_path):
    job = processed(tmp_path, textured_relief(), asset_face_budget_standard=2000)
    qa = job.record["details"]["mesh"]
    assert qa["texture_rebaked"] and qa["uvs"]
    mesh = load_back(job, "glb", tmp_path)
    assert mesh.visual.material.baseColorTexture.size == (128, 128)
    colours = np.asarray(mesh.visual.to_color().vertex_colors[:, :3], dtype=int)
    front = mesh.vertices[:, 2] > 0  # the photo's side (the back carries a darker estimate)
    left, right = front & (mesh.vertices[:, 0] < -0.1), front & (mesh.vertices[:, 0] > 0.1)
    assert np.median(colours[left], axis=0)[0] > 180 and np.median(colours[right], axis=0)[2] > 180


def test_a_mesh_under_budget_keeps_its_own_uvs(tmp_path):
    relief = textured_relief()
    job = processed(tmp_path, relief)
    qa = job.record["details"]["mesh"]
    assert not qa["decimated"] and not qa["texture_rebaked"] and qa["faces"] == len(relief.faces)
    assert qa["quality_tier"] == "standard" and qa["face_budget"] == 50_000
    assert Image.open(io.BytesIO(job.artifact("thumbnail.png"))).size == (512, 384)


def test_clean_up_merges_drops_degenerates_and_fixes_winding():
    box = trimesh.creation.box()
    triangles = box.triangles.copy()
    triangles[0] = triangles[0][::-1]  # one face wound inwards
    soup = trimesh.Trimesh(triangles.reshape(-1, 3), np.arange(len(triangles) * 3).reshape(-1, 3), process=False)
    soup = trimesh.Trimesh(np.vstack([soup.vertices, [[0, 0, 0]]]),
                           np.vstack([soup.faces, [[0, 0, 36]]]), process=False)  # plus a degenerate face
    assert len(soup.vertices) == 37 and not soup.is_watertight

    cleaned = clean(soup)
    qa = mesh_qa(cleaned)
    assert (qa["faces"], qa["vertices"]) == (12, 8)
    assert qa["watertight"] and qa["winding_consistent"] and cleaned.volume == pytest.approx(1.0)
    assert qa["bounds"] == [[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]] and not qa["uvs"]


def test_a_scene_of_parts_is_kept_and_flattened_with_its_colours():
    painted = trimesh.creation.box(extents=(1, 1, 1))
    painted.visual = trimesh.visual.ColorVisuals(painted, vertex_colors=np.tile([200, 10, 10, 255], (8, 1)))
    plain = trimesh.creation.icosphere(1, 0.4)
    plain.apply_translation((0, 1.2, 0))
    plain.visual = trimesh.visual.TextureVisuals(
        uv=np.zeros((len(plain.vertices), 2)),
        material=trimesh.visual.material.PBRMaterial(baseColorFactor=[10, 200, 10, 255]))
    scene, facts = finish_parts(trimesh.Scene({"box": painted, "ball": plain}))
    assert facts["parts"] == 2 and set(scene.geometry) == {"box", "ball"}
    qa = scene_qa(scene)
    assert qa["watertight"] and qa["vertex_colors"] and not qa["uvs"] and qa["parts"] == 2
    merged = flattened(scene)
    assert len(merged.faces) == qa["faces"]
    colours = np.asarray(merged.visual.vertex_colors)[:, :3]
    assert {tuple(c) for c in colours} == {(200, 10, 10), (10, 200, 10)}
