"""A small deterministic GLB (binary glTF 2.0) writer.

Why not trimesh's exporter: we need meshes with several primitives (one material each) shared by
many nodes, cameras, KHR_lights_punctual lights, and byte-identical output for identical input (no
set ordering, no timestamps). The output passes the Khronos validator without warnings.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
TRIANGLES = 4
LIGHTS_EXT = "KHR_lights_punctual"
_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942


@dataclass
class Primitive:
    """Triangles with one material; ``colors`` are linear RGBA bytes (COLOR_0)."""

    positions: np.ndarray
    faces: np.ndarray
    material: int
    normals: np.ndarray | None = None
    colors: np.ndarray | None = None


def _num(value: float) -> float:
    """JSON numbers for the scene description, rounded so tiny float noise cannot change bytes."""
    return round(float(value), 6) + 0.0  # + 0.0 turns -0.0 into 0.0


def _nums(values: Sequence[float]) -> list[float]:
    return [_num(v) for v in values]


class GlbWriter:
    def __init__(self, generator: str, extras: dict[str, Any] | None = None) -> None:
        self.asset: dict[str, Any] = {"version": "2.0", "generator": generator}
        if extras:
            self.asset["extras"] = extras
        self.scene_extras: dict[str, Any] = {}
        self.nodes: list[dict[str, Any]] = []
        self.roots: list[int] = []
        self.meshes: list[dict[str, Any]] = []
        self.materials: list[dict[str, Any]] = []
        self.cameras: list[dict[str, Any]] = []
        self.lights: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self._bin = bytearray()
        self._material_keys: dict[tuple, int] = {}

    def add_material(self, name: str, base_color: Sequence[float], metallic: float = 0.0, roughness: float = 0.9,
                     emissive: Sequence[float] = (0.0, 0.0, 0.0), double_sided: bool = False) -> int:
        """Index of a material with these values; identical requests share one material."""
        rgba = _nums([*base_color[:3], base_color[3] if len(base_color) > 3 else 1.0])
        key = (tuple(rgba), _num(metallic), _num(roughness), tuple(_nums(emissive)), double_sided)
        if key not in self._material_keys:
            material: dict[str, Any] = {
                "name": name,
                "pbrMetallicRoughness": {"baseColorFactor": rgba, "metallicFactor": key[1], "roughnessFactor": key[2]},
            }
            if any(key[3]):
                material["emissiveFactor"] = list(key[3])
            if double_sided:
                material["doubleSided"] = True
            self._material_keys[key] = len(self.materials)
            self.materials.append(material)
        return self._material_keys[key]

    def add_mesh(self, name: str, primitives: Sequence[Primitive]) -> int:
        entries = []
        for prim in primitives:
            positions = np.ascontiguousarray(prim.positions, dtype="<f4")
            attributes = {"POSITION": self._accessor(positions, FLOAT, "VEC3", ARRAY_BUFFER, bounds=True)}
            if prim.normals is not None:
                attributes["NORMAL"] = self._accessor(np.ascontiguousarray(prim.normals, dtype="<f4"), FLOAT,
                                                      "VEC3", ARRAY_BUFFER)
            if prim.colors is not None:
                attributes["COLOR_0"] = self._accessor(np.ascontiguousarray(prim.colors, dtype=np.uint8),
                                                       UNSIGNED_BYTE, "VEC4", ARRAY_BUFFER, normalized=True)
            # 65535 is the primitive-restart value for 16-bit indices, so it may not be used as an index
            small = len(positions) < 65535
            indices = np.ascontiguousarray(prim.faces, dtype="<u2" if small else "<u4").reshape(-1)
            entries.append({"attributes": attributes,
                            "indices": self._accessor(indices, UNSIGNED_SHORT if small else UNSIGNED_INT, "SCALAR",
                                                      ELEMENT_ARRAY_BUFFER),
                            "material": prim.material, "mode": TRIANGLES})
        self.meshes.append({"name": name, "primitives": entries})
        return len(self.meshes) - 1

    def add_camera(self, name: str, yfov: float, znear: float, zfar: float) -> int:
        self.cameras.append({"name": name, "type": "perspective",
                             "perspective": {"yfov": _num(yfov), "znear": _num(znear), "zfar": _num(zfar)}})
        return len(self.cameras) - 1

    def add_light(self, name: str, kind: str, color: Sequence[float], intensity: float,
                  spot_outer: float | None = None) -> int:
        light: dict[str, Any] = {"name": name, "type": kind, "color": _nums(color), "intensity": _num(intensity)}
        if kind == "spot":
            outer = spot_outer if spot_outer is not None else math.pi / 4
            light["spot"] = {"innerConeAngle": 0.0, "outerConeAngle": _num(outer)}
        self.lights.append(light)
        return len(self.lights) - 1

    def add_node(self, name: str, *, mesh: int | None = None, camera: int | None = None, light: int | None = None,
                 translation: Sequence[float] | None = None, rotation: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, parent: int | None = None) -> int:
        """Add a node (a root unless ``parent`` is given); rotation is a unit quaternion (x, y, z, w)."""
        node: dict[str, Any] = {"name": name}
        for key, value in (("translation", translation), ("rotation", rotation), ("scale", scale)):
            if value is not None:
                node[key] = _nums(value)
        for key, value in (("mesh", mesh), ("camera", camera)):
            if value is not None:
                node[key] = value
        if light is not None:
            node["extensions"] = {LIGHTS_EXT: {"light": light}}
        self.nodes.append(node)
        index = len(self.nodes) - 1
        if parent is None:
            self.roots.append(index)
        else:
            self.nodes[parent].setdefault("children", []).append(index)
        return index

    def _accessor(self, data: np.ndarray, component: int, kind: str, target: int, *, bounds: bool = False,
                  normalized: bool = False) -> int:
        offset = len(self._bin)
        self._bin += data.tobytes()
        self._bin += b"\0" * (-len(self._bin) % 4)
        self.views.append({"buffer": 0, "byteOffset": offset, "byteLength": data.nbytes, "target": target})
        accessor: dict[str, Any] = {"bufferView": len(self.views) - 1, "componentType": component,
                                    "count": int(data.shape[0]), "type": kind}
        if normalized:
            accessor["normalized"] = True
        if bounds:
            accessor["min"] = [float(v) for v in data.min(axis=0)]
            accessor["max"] = [float(v) for v in data.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def document(self) -> dict[str, Any]:
        """The glTF JSON, in a fixed key order."""
        scene: dict[str, Any] = {"name": "scene", "nodes": self.roots}
        if self.scene_extras:
            scene["extras"] = self.scene_extras
        doc: dict[str, Any] = {"asset": self.asset}
        if self.lights:
            doc["extensionsUsed"] = [LIGHTS_EXT]
            doc["extensions"] = {LIGHTS_EXT: {"lights": self.lights}}
        doc.update({"scene": 0, "scenes": [scene], "nodes": self.nodes})
        for key, items in (("meshes", self.meshes), ("materials", self.materials), ("cameras", self.cameras),
                           ("accessors", self.accessors), ("bufferViews", self.views)):
            if items:
                doc[key] = items
        if self._bin:
            doc["buffers"] = [{"byteLength": len(self._bin)}]
        return doc

    def to_bytes(self) -> bytes:
        content = json.dumps(self.document(), separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()
        content += b" " * (-len(content) % 4)
        chunks = struct.pack("<II", len(content), _JSON_CHUNK) + content
        if self._bin:
            chunks += struct.pack("<II", len(self._bin), _BIN_CHUNK) + bytes(self._bin)
        return struct.pack("<III", _GLB_MAGIC, 2, 12 + len(chunks)) + chunks


def with_material_extensions(glb: bytes, extensions: dict[str, dict[str, Any]]) -> bytes:
    """``glb`` with extensions added to the materials named in ``extensions`` (name -> {extension: value}).

    For what trimesh's exporter cannot write, such as KHR_materials_transmission on glass: the JSON chunk
    is rewritten, the binary chunk kept as it is.
    """
    magic, _, _ = struct.unpack_from("<III", glb, 0)
    json_length, chunk = struct.unpack_from("<II", glb, 12)
    if magic != _GLB_MAGIC or chunk != _JSON_CHUNK:
        raise ValueError("not a GLB with a JSON chunk first")
    document = json.loads(glb[20:20 + json_length])
    used = set(document.get("extensionsUsed", []))
    for material in document.get("materials", []):
        for name, value in extensions.get(material.get("name", ""), {}).items():
            material.setdefault("extensions", {})[name] = value
            used.add(name)
    if used:
        document["extensionsUsed"] = sorted(used)
    content = json.dumps(document, separators=(",", ":")).encode()
    content += b" " * (-len(content) % 4)
    rest = glb[20 + json_length:]
    chunks = struct.pack("<II", len(content), _JSON_CHUNK) + content + rest
    return struct.pack("<III", _GLB_MAGIC, 2, 12 + len(chunks)) + chunks
