# The README's commands. Everything a target needs is installed by the target itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements*.txt tools/gltf/package-lock.json tools/splat/package-lock.json | sha1sum | cut -c1-12)
VIEWER := apps/viewer
VIEWER_STAMP := $(VIEWER)/node_modules/.ci-stamp
VIEWER_SOURCES := $(shell find $(VIEWER)/app $(VIEWER)/components $(VIEWER)/lib $(VIEWER)/types -type f) \
	$(VIEWER)/next.config.mjs $(VIEWER)/tsconfig.json
export OMP_NUM_THREADS ?= 1
export PYTHONUNBUFFERED := 1
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: help install install-dev redis-server assimp demo test test-fast up down logs api worker redis lint bench clean \
	viewer viewer-build chromium reliability compose-up compose-down compose-logs compose-file

help:
	@echo "make demo   - install, start the local stack, run real jobs, stop (KEEP=1 leaves it up)"
	@echo "make test   - install dev dependencies and run the tests against real servers"
	@echo "make test-fast - the tests that need no Celery worker, browser or GPU"
	@echo "make up / down / logs - the local stack in the background"
	@echo "make api / worker / redis - one part in the foreground"
	@echo "make viewer (dev server) / viewer-build / lint / bench"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUNTIME_STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	rm -f $(VENV)/.runtime-*; touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt requirements-gpu.txt tools/gltf/package-lock.json tools/splat/package-lock.json | $(PY)
	@# torch first, alone and pinned: it resolves to the machine's CPU wheel, never to CUDA packages
	$(PY) -m pip install -q "$$(grep '^torch==' requirements-gpu.txt)"
	$(PY) -m pip install -q -r requirements-dev.txt -r requirements-gpu.txt
	npm ci --prefix tools/gltf --no-audit --no-fund --loglevel=error
	npm ci --prefix tools/splat --no-audit --no-fund --loglevel=error
	rm -f $(VENV)/.dev-*; touch $@

install: $(RUNTIME_STAMP) redis-server assimp
install-dev: $(RUNTIME_STAMP) $(DEV_STAMP) redis-server assimp

redis-server:
	@bash infra/local/ensure-package.sh redis-server redis-server

# FBX output (shared/assets/formats.py) converts through the Open Asset Import Library's command line.
assimp:
	@bash infra/local/ensure-package.sh $${ASSET_FBX_CONVERTER:-assimp} assimp-utils

$(VIEWER_STAMP): $(VIEWER)/package.json $(VIEWER)/package-lock.json
	npm ci --prefix $(VIEWER) --no-audit --no-fund --loglevel=error
	touch $@

$(VIEWER)/out/index.html: $(VIEWER_STAMP) $(VIEWER_SOURCES)
	cd $(VIEWER) && node_modules/.bin/next build
	touch $@

viewer-build: $(VIEWER)/out/index.html

viewer: $(VIEWER_STAMP)
	@echo "dev server: http://localhost:3000/viewer/ (talking to the API on port $${API_PORT:-8000})"
	cd $(VIEWER) && NEXT_PUBLIC_API_BASE_URL=$${NEXT_PUBLIC_API_BASE_URL:-http://127.0.0.1:$${API_PORT:-8000}} \
		node_modules/.bin/next dev --hostname localhost --port $${VIEWER_PORT:-3000}

chromium:
	@bash infra/local/ensure-package.sh $${CHROMIUM_PATH:-/usr/bin/chromium} chromium

demo: install viewer-build
	$(PY) -m infra.local.demo $(if $(KEEP),--keep,)

test: install-dev chromium viewer-build
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop: no Celery workers, no browser, no GPU (CI runs `make test`, everything).
test-fast: install-dev
	$(PY) -m pytest -m "not workers and not browser and not gpu" $(PYTEST_ARGS)

up: install viewer-build
	$(PY) -m infra.local.stack up

down:
	@if [ -x $(PY) ]; then $(PY) -m infra.local.stack down; fi

logs:
	@dir=$$($(PY) -c 'from shared.config import get_settings; print(get_settings().data_dir)')/run/logs; \
	  echo "tailing $$dir"; tail -n 50 -F $$dir/*.log

api: install
	$(PY) -m uvicorn --factory apps.api.main:create_app --host $${API_HOST:-127.0.0.1} --port $${API_PORT:-8000} \
	  --workers $$($(PY) -c 'from shared.config import get_settings; print(get_settings().resolved_api_workers)')

worker: install
	$(PY) -m celery -A shared.celery_app worker -Q $(shell $(PY) -m shared.queues --csv) --loglevel INFO

redis: redis-server
	@port=$$($(PY) -c 'from shared.config import get_settings; print(get_settings().redis_url.rsplit(":",1)[1].split("/")[0])'); \
	  redis-server --port $$port --bind 127.0.0.1 --save '' --appendonly no

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: install-dev redis-server
	@bash infra/local/ensure-package.sh wrk wrk
	$(PY) -m bench

COMPOSE := docker compose -f infra/compose/docker-compose.yaml
compose-up:
	$(COMPOSE) up -d --build
compose-down:
	$(COMPOSE) down
compose-logs:
	$(COMPOSE) logs -f --tail 50
compose-file:
	$(PY) -m infra.compose.generate

reliability: install-dev redis-server
	$(PY) -m infra.reliability $(if $(N),--n $(N),)

clean: down
	rm -rf $(VENV) .pytest_cache .ruff_cache
