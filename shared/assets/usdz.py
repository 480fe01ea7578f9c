"""USDZ output through Pixar's own library (``usd-core``): what AR Quick Look opens on iOS and macOS.

Each part of the model becomes a ``UsdGeom.Mesh`` bound to a ``UsdPreviewSurface`` material, the one
surface every USDZ viewer understands: a UV-mapped part samples its base-colour texture (packaged in
the file), a vertex-coloured one reads its ``displayColor`` primvar, anything else takes its material's
base colour (with its metallic, roughness and opacity), or a plain grey when it has no material.
Colours stay linear (glTF's convention and USD's); the texture is declared sRGB like glTF's.
``UsdUtils.CreateNewARKitUsdzPackage`` writes the package, with the alignment and the single layer
ARKit asks for.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from shared.assets.bake import texture_image
from shared.errors import ProviderError

if TYPE_CHECKING:
    import trimesh

PLAIN_GREY = (0.7, 0.7, 0.7)


def _define_part(stage, number: int, mesh: trimesh.Trimesh, folder: Path) -> None:
    from pxr import Gf, Sdf, UsdGeom, UsdShade, Vt

    prim = UsdGeom.Mesh.Define(stage, f"/model/part_{number}")
    prim.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(mesh.vertices, dtype=np.float32)))
    prim.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(mesh.faces), 3, dtype=np.int32)))
    prim.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.asarray(mesh.faces, dtype=np.int32).ravel()))
    prim.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(mesh.vertex_normals, dtype=np.float32)))
    prim.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    prim.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)  # triangles as they are, not a subdivision cage
    prim.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(prim.GetPointsAttr().Get()))

    path = f"/model/materials/material_{number}"
    material = UsdShade.Material.Define(stage, path)
    surface = UsdShade.Shader.Define(stage, f"{path}/surface")
    surface.CreateIdAttr("UsdPreviewSurface")
    pbr = getattr(mesh.visual, "material", None)
    metallic, roughness = getattr(pbr, "metallicFactor", None), getattr(pbr, "roughnessFactor", None)
    surface.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.8 if roughness is None else float(roughness))
    surface.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0 if metallic is None else float(metallic))
    factor = getattr(pbr, "baseColorFactor", None)
    rgba = np.asarray(factor, dtype=np.float64) / 255.0 if factor is not None else None
    if rgba is not None and rgba[3] < 1.0:
        surface.CreateInput("opacity", Sdf.ValueTypeNames.Float).Set(float(rgba[3]))
    material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    colour = surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f)
    primvars = UsdGeom.PrimvarsAPI(prim)
    image = texture_image(mesh)
    if image is not None:
        name = f"texture_{number}.png"
        image.convert("RGB").save(folder / name)
        uv = primvars.CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex)
        uv.Set(Vt.Vec2fArray.FromNumpy(np.asarray(mesh.visual.uv, dtype=np.float32)))
        reader = UsdShade.Shader.Define(stage, f"{path}/uv_reader")
        reader.CreateIdAttr("UsdPrimvarReader_float2")
        reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("st")
        texture = UsdShade.Shader.Define(stage, f"{path}/base_colour")
        texture.CreateIdAttr("UsdUVTexture")
        texture.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(name)
        texture.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        texture.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
        colour.ConnectToSource(texture.ConnectableAPI(), "rgb")
    elif mesh.visual.kind == "vertex":
        colours = np.asarray(mesh.visual.vertex_colors, dtype=np.float32)[:, :3] / 255.0
        display = primvars.CreatePrimvar("displayColor", Sdf.ValueTypeNames.Color3fArray, UsdGeom.Tokens.vertex)
        display.Set(Vt.Vec3fArray.FromNumpy(colours))
        reader = UsdShade.Shader.Define(stage, f"{path}/colour_reader")
        reader.CreateIdAttr("UsdPrimvarReader_float3")
        reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("displayColor")
        colour.ConnectToSource(reader.ConnectableAPI(), "result")
    else:  # the material's own base colour (a factory part's paint, the plain material), else grey
        colour.Set(Gf.Vec3f(*(rgba[:3] if rgba is not None else PLAIN_GREY)))
    UsdShade.MaterialBindingAPI.Apply(prim.GetPrim()).Bind(material)


def write_usdz(model: trimesh.Trimesh | trimesh.Scene, path: Path) -> None:
    """Write ``model`` (a mesh, or a scene whose parts keep their own materials) as a USDZ package at ``path``."""
    import trimesh
    from pxr import Sdf, Usd, UsdGeom, UsdUtils

    parts = list(model.dump()) if isinstance(model, trimesh.Scene) else [model]
    folder = path.with_name(path.name + ".parts")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        layer = folder / "model.usdc"
        stage = Usd.Stage.CreateNew(str(layer))
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)  # glTF's axes and units, which the meshes are in
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
        stage.SetDefaultPrim(UsdGeom.Xform.Define(stage, "/model").GetPrim())
        for number, part in enumerate(parts):
            _define_part(stage, number, part, folder)
        stage.GetRootLayer().Save()
        if not UsdUtils.CreateNewARKitUsdzPackage(Sdf.AssetPath(str(layer)), str(path)):
            raise ProviderError("USD could not package the model as USDZ")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
