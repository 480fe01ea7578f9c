# The README's commands. Everything a target needs is installed by the target itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements*.txt tools/gltf/package-lock.json | sha1sum | cut -c1-12)
export OMP_NUM_THREADS ?= 1
export PYTHONUNBUFFERED := 1

.PHONY: help install install-dev redis-server demo test up down logs api worker redis lint bench clean

help:
	@echo "make demo   - install, start the local stack, run real jobs, stop (KEEP=1 leaves it up)"
	@echo "make test   - install dev dependencies and run the tests against real servers"
	@echo "make up / down / logs - the local stack in the background"
	@echo "make api / worker / redis - one part in the foreground"
	@echo "make lint / bench"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.runtime-*; touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt requirements-gpu.txt tools/gltf/package-lock.json | $(PY)
	@# torch first, alone and pinned: it resolves to the machine's CPU wheel, never to CUDA packages
	$(PY) -m pip install -q "$$(grep '^torch==' requirements-gpu.txt)"
	$(PY) -m pip install -q -r requirements-dev.txt -r requirements-gpu.txt
	npm ci --prefix tools/gltf --no-audit --no-fund --loglevel=error
	rm -f $(VENV)/.dev-*; touch $@

install: $(RUNTIME_STAMP) redis-server
install-dev: $(DEV_STAMP) redis-server

redis-server:
	@bash infra/local/ensure-redis.sh

demo: install
	$(PY) -m infra.local.demo $(if $(KEEP),--keep,)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

up: install
	$(PY) -m infra.local.stack up

down:
	@if [ -x $(PY) ]; then $(PY) -m infra.local.stack down; fi

logs:
	@dir=$$($(PY) -c 'from shared.config import get_settings; print(get_settings().data_dir)')/run/logs; \
	  echo "tailing $$dir"; tail -n 50 -F $$dir/*.log

api: install
	$(PY) -m uvicorn --factory apps.api.main:create_app --host $${API_HOST:-127.0.0.1} --port $${API_PORT:-8000}

worker: install
	$(PY) -m celery -A shared.celery_app worker -Q $(shell $(PY) -m shared.queues --csv) --loglevel INFO

redis: redis-server
	@port=$$($(PY) -c 'from shared.config import get_settings; print(get_settings().redis_url.rsplit(":",1)[1].split("/")[0])'); \
	  redis-server --port $$port --bind 127.0.0.1 --save '' --appendonly no

lint: install-dev
	$(PY) -m ruff check .

bench: install-dev redis-server
	$(PY) -m bench

clean: down
	rm -rf $(VENV) .pytest_cache .ruff_cache
