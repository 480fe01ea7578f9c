"""Gaussian splats from video: frames, structure from motion, Gaussian initialisation, PLY and ``.splat``.

Every submodule imports numpy (and PyAV, pycolmap, numba or torch where it must) at top level, so only
worker code and provider methods import them; this ``__init__`` stays empty of imports.
"""
