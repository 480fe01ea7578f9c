"""The model side of the GPU providers: one runtime check, one model-source rule, and the loaders.

``runtime`` says whether this worker can run a provider (packages, device, model files) and is
import-light; ``diffusion`` and ``triposr`` load models once per worker process and keep them hot.
torch, diffusers and tsr are imported inside functions only, so the API and the CPU workers never
load them.
"""
