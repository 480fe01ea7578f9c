"""Gaussian splats from video: frames, structure from motion, Gaussian initialisation, PLY and ``.splat``.

Every submodule imports numpy (and PyAV, pycolmap, numba or torch where it must) at top level, so only
worker code and provider methods import them; this ``__init__`` imports nothing heavier than ``os``.

It sets one default the submodules' compiled loops depend on, before any of them can run: numba's
OpenMP threading layer reads ``OMP_WAIT_POLICY`` when it starts its threads (the process's first
parallel loop). With libgomp's default, a thread that finishes its share of a parallel loop spins for
about 300,000 iterations before it sleeps, so every parallel loop leaves a core busy for a while after
it ends. On a small machine shared with other work, that spinning takes the core the next serial step
needs (the conversion's radix sort and its write ran at half speed after each parallel pass; see
docs/benchmarks.md). ``PASSIVE`` puts the thread to sleep at once; waking it costs microseconds. A value
already in the environment is kept.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
