"""Turning a reconstructor's raw mesh into a deliverable one: clean, within the face budget, still coloured.

Reconstructors differ in what they leave behind (duplicate vertices from marching cubes, slivers,
inconsistent winding, far too many faces), so every mesh goes through the same steps whatever made
it. Decimation is fast-simplification's quadric decimator (1.3M -> 50k faces in about 2 s); the
colours are carried over afterwards (``shared.assets.bake``), since the decimator drops them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from shared.assets.bake import rebake, texture_image, transfer_vertex_colors


def tidy(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Merge duplicate vertices (not across UV seams), drop degenerate and repeated faces and unused vertices."""
    mesh.merge_vertices()
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    return mesh


def clean(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """``tidy``, then consistent, outward winding (the costly part: it walks the face graph)."""
    trimesh.repair.fix_normals(tidy(mesh))
    return mesh


def _geometry_only(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The shape alone, welded by position: UV seams must not become cracks for the decimator."""
    shape = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    shape.merge_vertices()
    return shape


def decimate(mesh: trimesh.Trimesh, budget: int) -> trimesh.Trimesh:
    """The mesh's shape with at most ``budget`` faces (colours not carried; see ``finish``)."""
    import fast_simplification

    shape = _geometry_only(mesh)
    target = budget
    while True:
        points, faces = fast_simplification.simplify(shape.vertices, shape.faces, target_count=target)
        if len(faces) <= budget:
            break
        target = int(target * 0.98)  # the decimator may stop a little above the count it was given
    return clean(trimesh.Trimesh(points, faces, process=False))


def finish(mesh: trimesh.Trimesh, budget: int, texture_size: int) -> tuple[trimesh.Trimesh, dict[str, Any]]:
    """The deliverable mesh and what was done to it (faces before, decimated, texture re-baked).

    Winding is fixed on the mesh that is delivered: after decimation, that is a small one.
    """
    mesh = tidy(mesh)
    facts: dict[str, Any] = {"source_faces": len(mesh.faces), "decimated": False, "texture_rebaked": False}
    if len(mesh.faces) <= budget:
        trimesh.repair.fix_normals(mesh)  # tidied just above: clean's first half is done
        return mesh, facts
    smaller = decimate(mesh, budget)
    if texture_image(mesh) is not None:
        smaller = rebake(mesh, smaller, texture_size)
        facts["texture_rebaked"] = True
    elif mesh.visual.kind == "vertex":
        transfer_vertex_colors(mesh, smaller)
    facts["decimated"] = True
    return smaller, facts


PLAIN_MATERIAL_RGBA = (180, 180, 180, 255)


def plain(model: trimesh.Trimesh | trimesh.Scene) -> trimesh.Trimesh | trimesh.Scene:
    """The shape with one plain grey material and no texture, UVs or colours (``with_texture=false``)."""

    def plain_mesh(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
        shape = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
        material = trimesh.visual.material.PBRMaterial(name="plain", baseColorFactor=PLAIN_MATERIAL_RGBA,
                                                       metallicFactor=0.0, roughnessFactor=0.8)
        shape.visual = trimesh.visual.TextureVisuals(material=material)
        return shape

    if isinstance(model, trimesh.Scene):
        for name, geometry in list(model.geometry.items()):
            model.geometry[name] = plain_mesh(geometry)
        return model
    return plain_mesh(model)


def face_count(model: trimesh.Trimesh | trimesh.Scene) -> int:
    if isinstance(model, trimesh.Scene):
        return sum(len(geometry.faces) for geometry in model.geometry.values())
    return len(model.faces)


def finish_parts(scene: trimesh.Scene) -> tuple[trimesh.Scene, dict[str, Any]]:
    """A scene of named parts within the budget, tidied part by part: names, UVs and materials kept.

    Merging the parts into one mesh (the path for everything else) would pack their materials into one
    and lose the names a client selects parts by.
    """
    for geometry in scene.geometry.values():
        clean(geometry)
    return scene, {"source_faces": face_count(scene), "decimated": False, "texture_rebaked": False,
                   "parts": len(scene.geometry)}


def flattened(scene: trimesh.Scene) -> trimesh.Trimesh:
    """One vertex-coloured mesh (linear colours, as reconstructors deliver them), each part in its own vertex
    colours or else its material's base colour: for formats that carry no materials (PLY, STL)."""
    meshes = []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        part = scene.geometry[name]
        mesh = trimesh.Trimesh(trimesh.transform_points(part.vertices, transform), part.faces, process=False)
        if part.visual.kind == "vertex":
            colors = np.asarray(part.visual.vertex_colors)
        else:
            factor = getattr(getattr(part.visual, "material", None), "baseColorFactor", None)
            color = np.asarray(factor if factor is not None else (200, 200, 200, 255), dtype=np.uint8)
            colors = np.tile(color, (len(mesh.vertices), 1))
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=colors)
        meshes.append(mesh)
    return trimesh.util.concatenate(meshes)


def scene_qa(scene: trimesh.Scene) -> dict[str, Any]:
    """``mesh_qa`` for a scene of parts: closed and consistently wound means every part is."""
    parts = [mesh_qa(geometry) for geometry in scene.geometry.values()]
    materials = {getattr(g.visual, "material", None).name for g in scene.geometry.values()
                 if getattr(g.visual, "material", None) is not None}
    return {
        "faces": sum(p["faces"] for p in parts),
        "vertices": sum(p["vertices"] for p in parts),
        "watertight": all(p["watertight"] for p in parts),
        "winding_consistent": all(p["winding_consistent"] for p in parts),
        "bounds": [[round(float(v), 6) for v in corner] for corner in np.asarray(scene.bounds, dtype=float)],
        "uvs": all(getattr(g.visual, "uv", None) is not None for g in scene.geometry.values()),
        "vertex_colors": any(p["vertex_colors"] for p in parts),
        "parts": len(parts),
        "materials": len(materials),
    }


def mesh_qa(mesh: trimesh.Trimesh) -> dict[str, Any]:
    """The manifest's mesh block: what a client checks before using the asset."""
    bounds = np.asarray(mesh.bounds, dtype=float)
    shape = _geometry_only(mesh)  # UV seams split vertices; closedness is a property of the shape
    return {
        "faces": len(mesh.faces),
        "vertices": len(mesh.vertices),
        "watertight": bool(shape.is_watertight),
        "winding_consistent": bool(shape.is_winding_consistent),
        "bounds": [[round(float(v), 6) for v in corner] for corner in bounds],
        "uvs": texture_image(mesh) is not None,
        "vertex_colors": mesh.visual.kind == "vertex",
    }
