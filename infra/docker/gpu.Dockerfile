# syntax=docker/dockerfile:1
# The GPU worker: the CPU image's code plus CUDA torch, requirements-gpu.txt (diffusers, transformers) and
# gsplat with its CUDA kernels compiled at build time (no nvcc, and no minutes of JIT, at run time).
#
#   docker build -f infra/docker/gpu.Dockerfile -t mmf-gpu .
#   docker run --gpus all mmf-gpu        # a worker on gpu_tasks
#
# CUDA_VERSION, TORCH_INDEX_URL and TORCH_CUDA_ARCH_LIST go together: the torch build from that index must
# target the base image's CUDA major version (the driver on the host must support it), and the arch list
# names the GPU generations the gsplat kernels are compiled for (7.5 T4, 8.0 A100, 8.6 A10/RTX 30xx,
# 8.9 L4/RTX 40xx, 9.0 H100). torch's exact version comes from requirements-gpu.txt.
ARG CUDA_VERSION=12.8.1
ARG UBUNTU=ubuntu24.04

FROM nvidia/cuda:${CUDA_VERSION}-devel-${UBUNTU} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG TORCH_CUDA_ARCH_LIST="7.5;8.0;8.6;8.9;9.0"
ARG GSPLAT_VERSION=1.5.3
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt requirements-gpu.txt /tmp/
# torch first, alone, from the CUDA index: requirements-gpu.txt pins the same version, which pip then
# finds satisfied (2.13.0+cu128 matches ==2.13.0) instead of fetching PyPI's build.
RUN pip install --index-url "${TORCH_INDEX_URL}" "$(grep '^torch==' /tmp/requirements-gpu.txt)"
RUN pip install -r /tmp/requirements-gpu.txt ninja
# From the source distribution, against the torch above, so the CUDA extension is built now.
RUN TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST}" MAX_JOBS=4 \
    pip install --no-build-isolation --no-binary=gsplat "gsplat==${GSPLAT_VERSION}"

FROM nvidia/cuda:${CUDA_VERSION}-runtime-${UBUNTU}
ENV DEBIAN_FRONTEND=noninteractive
# assimp-utils: FBX output, for the S3 workflow's tasks, which post-process on this image too.
RUN apt-get update && apt-get install -y --no-install-recommends python3 assimp-utils \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    DATA_DIR=/data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY workers ./workers
COPY infra ./infra

# Ubuntu 24.04 images ship a user "ubuntu" with uid 1000; ours is separate.
RUN useradd --create-home --uid 10001 mmf && mkdir -p /data && chown mmf /data
USER mmf
# The queue name comes from shared/queues.py, as everywhere else; exec hands signals to celery.
CMD exec celery -A shared.celery_app worker -Q "$(python -c 'from shared import queues; print(queues.GPU)')" -n gpu@%h -c 1
