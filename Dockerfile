# syntax=docker/dockerfile:1
# API and CPU workers: one image, run as a non-root user. The command picks the role:
#   docker run IMAGE                                                   -> the API on :8000 (+ the viewer at /viewer/)
#   docker run IMAGE celery -A shared.celery_app worker -Q cpu_tasks   -> a CPU worker
# infra/compose/docker-compose.yaml runs it both ways. Build from the repository root: docker build -t mmf .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# The viewer's static export; only apps/viewer/out reaches the final image (no node there).
FROM node:20-bookworm-slim AS viewer
ENV NEXT_TELEMETRY_DISABLED=1
WORKDIR /viewer
COPY apps/viewer/package.json apps/viewer/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY apps/viewer/ ./
RUN node_modules/.bin/next build

# Dependencies in a virtualenv, wheels only: av (FFmpeg inside) and pycolmap (COLMAP, OpenMP inside) ship
# manylinux wheels with their libraries, so the slim image needs no compiler and no system packages.
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt

FROM ${PYTHON_IMAGE}
# FBX output converts through the Open Asset Import Library's command line (ASSET_FBX_CONVERTER).
RUN apt-get update && apt-get install -y --no-install-recommends assimp-utils && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    DATA_DIR=/data \
    API_HOST=0.0.0.0
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# Code last: a code-only change rebuilds these thin layers and nothing above.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY workers ./workers
COPY infra ./infra
COPY apps ./apps
COPY --from=viewer /viewer/out ./apps/viewer/out

RUN useradd --create-home --uid 10001 mmf && mkdir -p /data && chown mmf /data
USER mmf
EXPOSE 8000
# No HEALTHCHECK here: the image plays several roles (API, worker, beat) and each is probed its own way
# (the compose file: /ready for the API, a broker ping for each worker).
CMD ["python", "-m", "uvicorn", "--factory", "apps.api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
