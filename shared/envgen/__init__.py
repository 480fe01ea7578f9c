"""Environment generation helpers: prompt rules, procedural geometry, GLB writing.

This package's own ``__init__`` stays light (constants only) so provider modules can read the
defaults without importing numpy or trimesh; the modules that need them import them at top level
and are themselves only imported inside provider methods.
"""

DEFAULT_GLB_BUDGET_BYTES = 8 * 1024 * 1024
MIN_GLB_BUDGET_BYTES = 1024
MAX_GLB_BUDGET_BYTES = 256 * 1024 * 1024
THUMBNAIL_SIZE = (512, 384)
