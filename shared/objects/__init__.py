"""Parametric object factories: one seeded generator per category, a mesh of named parts with PBR materials.

``base`` holds the contract (``Factory``, ``ObjectSpec``, ``Model``) and the builder every factory
draws with; one module per family registers its factories; ``prompts`` turns a prompt into a spec.
The text_to_3d default and the procedural environments both build their objects here.
"""
