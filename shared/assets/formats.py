"""Output formats of a 3D asset: names of the artifacts, which formats this server can write, the writers.

Import-light at module level (the API asks ``format_availability`` at submit): trimesh, assimp and USD
are reached by the writers only. Colours: the meshes carry linear vertex colours (glTF's COLOR_0
convention); PLY and OBJ readers expect sRGB, so those writers convert. STL has no colour, so a
textured STL cannot be asked for; PLY carries the texture's colours per vertex.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from shared.errors import FormatUnavailable, ProviderError, TextureUnsupported

if TYPE_CHECKING:
    import trimesh

    from shared.config import Settings

FORMATS = ("glb", "obj", "ply", "stl", "fbx", "usdz")
# Formats with no colour at all: ``with_texture=true`` cannot be honoured in them.
COLOURLESS_FORMATS = ("stl",)
FBX_TIMEOUT_S = 300
CONTENT_TYPES = {"glb": "model/gltf-binary", "obj": "application/zip", "ply": "application/octet-stream",
                 "stl": "model/stl", "fbx": "application/octet-stream", "usdz": "model/vnd.usdz+zip"}
OBJ_PART_CONTENT_TYPES = {".obj": "model/obj", ".mtl": "model/mtl", ".png": "image/png", ".jpg": "image/jpeg",
                          ".jpeg": "image/jpeg"}


def model_artifact_name(output_format: str) -> str:
    """The artifact a job of ``output_format`` delivers: ``model.<fmt>``, except OBJ's zip with its mtl and texture."""
    return "model.obj.zip" if output_format == "obj" else f"model.{output_format}"


def fbx_available(settings: Settings | None = None) -> bool:
    """Whether this machine has the GLB -> FBX converter (ASSET_FBX_CONVERTER, Open Asset Import Library's CLI)."""
    if settings is None:
        from shared.config import get_settings

        settings = get_settings()
    return shutil.which(settings.asset_fbx_converter) is not None


def usd_available() -> bool:
    """Whether Pixar's USD library (the ``usd-core`` wheel, a runtime requirement) can be imported here."""
    import importlib.util

    return importlib.util.find_spec("pxr") is not None


def unavailable_reason(output_format: str, settings: Settings) -> str | None:
    """Why this server cannot write ``output_format``, or None when it can."""
    if output_format == "fbx" and not fbx_available(settings):
        return f"fbx output needs the FBX converter {settings.asset_fbx_converter!r} (Debian: assimp-utils)"
    if output_format == "usdz" and not usd_available():
        return "usdz output needs Pixar's USD library (pip: usd-core)"
    if output_format not in FORMATS:
        return f"unknown output format {output_format!r} (known: {', '.join(FORMATS)})"
    return None


def format_availability(settings: Settings) -> dict[str, str | None]:
    """Every output format, with None when this server can write it, else why not (``GET /v1/providers``)."""
    return {output_format: unavailable_reason(output_format, settings) for output_format in FORMATS}


def check_texture_request(output_format: str, with_texture: bool | None) -> None:
    """Refuse ``with_texture=true`` for a format that holds no colour, naming the field."""
    if with_texture and output_format in COLOURLESS_FORMATS:
        raise TextureUnsupported(f"with_texture: {output_format} files hold no texture or colour; "
                             "leave with_texture out or set it to false")


def obj_files(archive: bytes, stem: str) -> dict[str, bytes]:
    """The files of an OBJ zip (``model.obj.zip``) renamed after ``stem``: ``<stem>.obj``, ``<stem>.mtl`` and
    ``<stem>_<texture>``, with the references inside them rewritten, so they work side by side in any folder."""
    import io

    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    renamed = {name: (f"{stem}.mtl" if name.endswith(".mtl") else f"{stem}_{name}")
               for name in files if name != "model.obj"}

    def rewrite(text: bytes, directives: tuple[bytes, ...]) -> bytes:
        lines = text.split(b"\n")
        for number, line in enumerate(lines):
            head, _, reference = line.partition(b" ")
            target = renamed.get(reference.strip().decode(errors="replace"))
            if head in directives and target is not None:
                lines[number] = head + b" " + target.encode()
        return b"\n".join(lines)

    out = {f"{stem}.obj": rewrite(files["model.obj"], (b"mtllib",))}
    for name, data in files.items():
        if name != "model.obj":
            out[renamed[name]] = rewrite(data, (b"map_Kd", b"map_Ka", b"map_Ks", b"map_d", b"map_Bump", b"bump",
                                               b"norm")) if name.endswith(".mtl") else data
    return out


def _display_colors(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy whose colours are per-vertex sRGB bytes (texture sampled, or linear vertex colours converted)."""
    import numpy as np
    import trimesh

    from shared.geometry.render import linear_to_srgb

    copy = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    if mesh.visual.kind == "texture":
        copy.visual = mesh.visual.to_color()
    elif mesh.visual.kind == "vertex":
        colors = np.asarray(mesh.visual.vertex_colors, dtype=float)
        srgb = np.round(linear_to_srgb(colors[:, :3] / 255.0) * 255)
        copy.visual = trimesh.visual.ColorVisuals(copy, vertex_colors=np.column_stack([srgb, colors[:, 3]]))
    return copy


def _write_obj_zip(mesh: trimesh.Trimesh | trimesh.Scene, path: Path) -> None:
    import trimesh
    from trimesh.exchange.obj import export_obj

    # a scene of parts keeps one object and one material per part in the .obj and its .mtl
    source = mesh if isinstance(mesh, trimesh.Scene) or mesh.visual.kind == "texture" else _display_colors(mesh)
    text, files = export_obj(source, include_normals=True, include_color=True, include_texture=True,
                             return_texture=True, mtl_name="model.mtl")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.obj", text)
        for name, data in files.items():
            archive.writestr(name, data)


def _write_fbx(mesh: trimesh.Trimesh, path: Path, settings: Settings) -> None:
    converter = shutil.which(settings.asset_fbx_converter)
    if converter is None:
        raise FormatUnavailable(f"fbx output needs {settings.asset_fbx_converter!r} installed (Debian: assimp-utils)")
    glb = path.with_name(path.stem + ".for-fbx.glb")
    glb.write_bytes(mesh.export(file_type="glb"))
    try:
        result = subprocess.run([converter, "export", str(glb), str(path), "-ffbx"], capture_output=True, text=True,
                                timeout=FBX_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ProviderError(f"the FBX converter took longer than {FBX_TIMEOUT_S} s") from None
    finally:
        glb.unlink(missing_ok=True)
    if result.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        raise ProviderError(f"the FBX converter failed: {(result.stderr or result.stdout).strip()[-500:]}")


def write_model(mesh: trimesh.Trimesh | trimesh.Scene, output_format: str, folder: Path, settings: Settings) -> Path:
    """Write ``mesh`` (or a scene of parts) in ``output_format`` under ``folder``; the file's name is the artifact's.

    PLY and STL hold one mesh: a scene's parts are merged for them, each coloured with its material."""
    import trimesh

    from shared.assets.postprocess import flattened

    path = folder / model_artifact_name(output_format)
    if isinstance(mesh, trimesh.Scene) and output_format in ("ply", "stl"):
        mesh = flattened(mesh)
    if output_format == "glb":
        path.write_bytes(mesh.export(file_type="glb"))
    elif output_format == "obj":
        _write_obj_zip(mesh, path)
    elif output_format == "ply":
        path.write_bytes(_display_colors(mesh).export(file_type="ply"))
    elif output_format == "stl":
        path.write_bytes(mesh.export(file_type="stl"))
    elif output_format == "fbx":
        _write_fbx(mesh, path, settings)
    elif output_format == "usdz":
        if not usd_available():
            raise FormatUnavailable(f"{unavailable_reason('usdz', settings)}, which this server does not have")
        from shared.assets.usdz import write_usdz

        write_usdz(mesh, path)
    else:
        raise FormatUnavailable(f"unknown output format {output_format!r} (known: {', '.join(FORMATS)})")
    return path
