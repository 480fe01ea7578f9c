"""Geometry shared by every 3D stage: a deterministic GLB writer, cameras and a CPU thumbnail renderer.

Importing a submodule pulls in numpy (and trimesh/Pillow for rendering): only worker code and
provider methods import them, never provider modules at import time.
"""
