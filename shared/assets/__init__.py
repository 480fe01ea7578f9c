"""3D assets from pictures: views, reconstruction and post-processing, as plain functions.

The conventions every module here shares live in ``views``: a normalised view is a square RGBA
picture whose alpha is the object's mask; it shows the cube [-1, 1]^3 by orthographic projection
from a camera at azimuth a on the horizon, at (sin a, 0, cos a) looking at the origin, +Y up.
Meshes are in that frame: +Y up, the first view's camera on +Z. ``formats`` and ``prompts`` are
import-light (the API and the provider modules use them); the rest pull in numpy, trimesh and friends.
"""
