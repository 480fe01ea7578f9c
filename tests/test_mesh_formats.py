"""Every output format, written by a maintained library and read back by a reader we did not write.

GLB: the Khronos glTF validator. OBJ (+ MTL + texture), PLY, STL: trimesh and the Open Asset Import
Library (``assimp info``). FBX (written by assimp): three.js's FBXLoader, since assimp 5.2 cannot read
the binary FBX 7.5 it writes. USDZ (written with Pixar's USD): USD itself, with its validators.
Each model comes out of the real post-processing stage, textured or with ``with_texture=false``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import trimesh

from shared.assets.formats import COLOURLESS_FORMATS, FORMATS, format_availability, model_artifact_name
from shared.config import Settings
from shared.errors import FormatUnavailable, TextureUnsupported
from shared.pipeline.assets import POSTPROCESS_PROGRESS, RECONSTRUCTION, post_process
from tests.stage_jobs import StageJob
from tests.test_assets_postprocess import textured_relief, two_tone_sphere

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "gltf"
NODE = shutil.which("node")


def made(tmp_path: Path, mesh: trimesh.Trimesh, output_format: str, with_texture: bool | None = None,
         **overrides) -> StageJob:
    settings = Settings(**{"data_dir": tmp_path, "asset_texture_size": 128, "asset_face_budget_standard": 3000,
                           **overrides})
    request = {"images": ["images/uploaded/x.png"], "output_format": output_format}
    if with_texture is not None:
        request["with_texture"] = with_texture
    job = StageJob(tmp_path, "image_to_3d", request, settings, {"reconstruct": "relief"})
    job.objects.put_bytes(f"jobs/{job.job_id}/{RECONSTRUCTION}", mesh.export(file_type="glb"))
    job.run("post_processing", POSTPROCESS_PROGRESS, post_process)
    return job


def node_tool(script: str, path: Path) -> subprocess.CompletedProcess:
    assert NODE, "node is needed for the readers in tools/gltf"
    assert (TOOLS / "node_modules" / "three").is_dir(), "run: npm ci --prefix tools/gltf"
    return subprocess.run([NODE, str(TOOLS / script), str(path)], capture_output=True, text=True, timeout=120)


def assimp_faces(path: Path) -> int:
    """The face count ``assimp info`` reports for ``path``."""
    assimp = shutil.which("assimp")
    assert assimp, "assimp (Debian: assimp-utils) is installed by make install"
    result = subprocess.run([assimp, "info", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-500:] + result.stderr[-500:]
    return int(re.search(r"^Faces:\s+(\d+)", result.stdout, re.MULTILINE).group(1))


def usd_read(path: Path) -> dict:
    """What USD itself reads from a USDZ: its validators' findings, faces, and how each mesh is coloured."""
    from pxr import Usd, UsdGeom, UsdShade, UsdValidation

    stage = Usd.Stage.Open(str(path))
    registry = UsdValidation.ValidationRegistry()
    errors = UsdValidation.ValidationContext(registry.GetOrLoadAllValidators()).Validate(stage)
    faces, surfaces = 0, []
    for prim in stage.Traverse():
        if not prim.IsA(UsdGeom.Mesh):
            continue
        faces += len(UsdGeom.Mesh(prim).GetFaceVertexCountsAttr().Get())
        material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
        shader = material.ComputeSurfaceSource()[0]
        colour = shader.GetInput("diffuseColor")
        source = colour.GetConnectedSources()[0]
        surfaces.append(source[0].source.GetPrim().GetAttribute("info:id").Get() if source else "constant")
    return {"errors": [f"{error.GetName()}: {error.GetMessage()}" for error in errors], "faces": faces,
            "up_axis": UsdGeom.GetStageUpAxis(stage), "surfaces": surfaces,
            "packaged": zipfile.ZipFile(path).namelist()}


def read_back(job: StageJob, output_format: str, folder: Path) -> dict:
    """What outside readers find in the delivered file: faces and whether a texture came with it."""
    data = job.artifact(model_artifact_name(output_format))
    folder.mkdir(parents=True, exist_ok=True)
    if output_format == "glb":
        path = folder / "model.glb"
        path.write_bytes(data)
        assert (TOOLS / "node_modules" / "gltf-validator").is_dir(), "run: npm ci --prefix tools/gltf"
        report = json.loads(node_tool("validate.mjs", path).stdout)
        assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
        assert report["info"]["totalTriangleCount"] == assimp_faces(path)
        return {"faces": report["info"]["totalTriangleCount"], "textured": report["info"]["hasTextures"]}
    if output_format == "obj":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(folder)
        mesh = trimesh.load(folder / "model.obj", force="mesh")
        assert len(mesh.faces) == assimp_faces(folder / "model.obj")
        return {"faces": len(mesh.faces), "textured": getattr(mesh.visual.material, "image", None) is not None}
    if output_format in ("ply", "stl"):
        path = folder / f"model.{output_format}"
        path.write_bytes(data)
        mesh = trimesh.load(path, force="mesh")
        assert len(mesh.faces) == assimp_faces(path)
        return {"faces": len(mesh.faces), "textured": False, "colours": mesh.visual.kind == "vertex"}
    if output_format == "fbx":
        path = folder / "model.fbx"
        path.write_bytes(data)
        result = node_tool("read_fbx.mjs", path)
        assert result.returncode == 0, result.stderr
        read = json.loads(result.stdout)
        return {"faces": read["faces"], "textured": bool(read["embedded_texture_bytes"]) and read["uvs"]}
    path = folder / "model.usdz"
    path.write_bytes(data)
    read = usd_read(path)
    assert read["errors"] == [] and read["up_axis"] == "Y"
    assert read["packaged"][0].endswith(".usdc")  # ARKit's rule: the root layer comes first
    textured = read["surfaces"] == ["UsdUVTexture"]
    assert textured == any(name.endswith(".png") for name in read["packaged"])
    return {"faces": read["faces"], "textured": textured, "surfaces": read["surfaces"]}


def writable(output_format: str) -> None:
    reason = format_availability(Settings())[output_format]
    if reason:
        pytest.fail(f"{reason}: make install puts it on this machine")


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_textured_model_reads_back_in_every_format(tmp_path, output_format):
    writable(output_format)
    job = made(tmp_path, textured_relief(), output_format)
    faces = job.record["details"]["mesh"]["faces"]
    read = read_back(job, output_format, tmp_path / "back")
    assert read["faces"] == faces
    assert read["textured"] == (output_format in ("glb", "obj", "fbx", "usdz"))
    if output_format == "ply":
        assert read["colours"]  # the texture's colours, per vertex


@pytest.mark.parametrize("output_format", ["glb", "obj", "fbx", "usdz", "ply"])
def test_without_texture_the_shape_has_a_plain_material(tmp_path, output_format):
    writable(output_format)
    job = made(tmp_path, textured_relief(), output_format, with_texture=False)
    read = read_back(job, output_format, tmp_path / "back")
    assert read["faces"] == job.record["details"]["mesh"]["faces"] and not read["textured"]
    if output_format == "usdz":
        assert read["surfaces"] == ["constant"]
    assert any("with_texture=false" in note for note in job.record["notes"])


def test_vertex_colours_reach_usdz_as_display_colours(tmp_path):
    writable("usdz")
    job = made(tmp_path, two_tone_sphere(), "usdz")
    read = read_back(job, "usdz", tmp_path / "back")
    assert read["surfaces"] == ["UsdPrimvarReader_float3"] and read["faces"] == job.record["details"]["mesh"]["faces"]


def test_a_texture_asked_of_stl_is_refused_and_missing_writers_are_named(tmp_path):
    from shared.pipeline.intake import prepare_request
    from shared.schemas.api import JobCreate
    from shared.storage import get_object_store

    assert COLOURLESS_FORMATS == ("stl",)
    body = JobCreate(kind="text_to_3d", prompt="a mug", output_format="stl", with_texture=True)
    with pytest.raises(TextureUnsupported, match=r"^with_texture: stl files hold no texture"):
        prepare_request(body, get_object_store(), Settings(data_dir=tmp_path))
    without = Settings(data_dir=tmp_path, asset_fbx_converter="no-such-converter")
    assert format_availability(without)["fbx"] == (
        "fbx output needs the FBX converter 'no-such-converter' (Debian: assimp-utils)")
    with pytest.raises(FormatUnavailable, match=r"^output_format: fbx output needs"):
        prepare_request(JobCreate(kind="text_to_3d", prompt="a mug", output_format="fbx"), get_object_store(),
                        without)
    # a worker whose machine lost the converter after the job was accepted fails it, saying why
    with pytest.raises(FormatUnavailable, match=r"'no-such-converter'.*which this server does not have"):
        made(tmp_path / "job", two_tone_sphere(), "fbx", asset_fbx_converter="no-such-converter")


def test_the_api_names_the_field_and_lists_what_it_can_write(client):
    unknown = client.post("/v1/generations", json={"kind": "text_to_3d", "prompt": "a mug", "output_format": "gltf"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_error"
    assert unknown.json()["detail"][0]["loc"] == ["body", "output_format"]
    textured_stl = client.post("/v1/generations", json={"kind": "text_to_3d", "prompt": "a mug",
                                                        "output_format": "stl", "with_texture": True})
    assert textured_stl.status_code == 422, textured_stl.text
    assert textured_stl.json()["code"] == "texture_unsupported"
    assert textured_stl.json()["message"].startswith("with_texture")
    listing = client.get("/v1/providers").json()
    assert listing["output_formats"] == list(FORMATS)
    availability = listing["output_format_availability"]
    assert set(availability) == set(FORMATS) and availability["usdz"] == {"available": True,
                                                                          "unavailable_reason": None}
    assert availability["fbx"]["available"] == (shutil.which("assimp") is not None)


def test_a_scene_of_painted_parts_keeps_each_parts_material_in_usdz(tmp_path):
    """A factory model's parts (no textures, PBR base colours) reach USD as one mesh and material each."""
    from pxr import Usd, UsdGeom, UsdShade

    from shared.assets.formats import write_model

    writable("usdz")
    red = trimesh.creation.box()
    red.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.PBRMaterial(
        baseColorFactor=[255, 0, 0, 255], metallicFactor=1.0, roughnessFactor=0.25))
    glass = trimesh.creation.icosphere(1, 0.4)
    glass.apply_translation((0, 1.2, 0))
    glass.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.PBRMaterial(
        baseColorFactor=[0, 0, 255, 128]))
    path = write_model(trimesh.Scene({"body": red, "lamp": glass}), "usdz", tmp_path, Settings(data_dir=tmp_path))
    assert usd_read(path)["errors"] == []
    stage = Usd.Stage.Open(str(path))
    found = {}
    for prim in stage.Traverse():
        if prim.IsA(UsdGeom.Mesh):
            surface = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()[0].ComputeSurfaceSource()[0]
            inputs = {name: surface.GetInput(name).Get() for name in ("diffuseColor", "metallic", "roughness")}
            opacity = surface.GetInput("opacity")
            found[len(UsdGeom.Mesh(prim).GetFaceVertexCountsAttr().Get())] = (
                tuple(round(c, 2) for c in inputs["diffuseColor"]), round(inputs["metallic"], 2),
                round(inputs["roughness"], 2), round(opacity.Get(), 2) if opacity else 1.0)
    assert found == {12: ((1.0, 0.0, 0.0), 1.0, 0.25, 1.0), len(glass.faces): ((0.0, 0.0, 1.0), 0.0, 0.8, 0.5)}
