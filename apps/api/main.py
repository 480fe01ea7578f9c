"""The FastAPI application factory (``uvicorn --factory apps.api.main:create_app``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from apps.api.errors import ERROR_RESPONSES, install_error_handlers
from apps.api.limits import BodySizeLimit, form_limits
from apps.api.routes import admin, compat, docs, events, files, generations, health, metrics, providers, uploads
from apps.api.viewer import mount_viewer
from shared.config import Settings, get_settings
from shared.logs import configure_logging
from shared.version import CODE_VERSION

# How many new container objects between two collections of the youngest generation (Python's default:
# 700). See ``settle_garbage_collector``.
GC_GEN0_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Take what the process holds once started (modules, the app and its routes: some 100,000 objects)
    out of the collector's way, and collect the youngest generation less often.

    Cyclic garbage is still collected. What changes is that a full collection no longer walks every
    object of every imported module: those walks were pauses in the submission route's tail
    (``docs/architecture.md`` has the measurement)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settle_garbage_collector()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API under ``settings`` (by default the environment's); the routes read them from ``app.state``."""
    settings = settings or get_settings()
    configure_logging(settings)
    # openapi_url=None: FastAPI's document and docs pages are always public; routes/docs.py serves them
    # instead, behind the API key when keys are configured.
    app = FastAPI(title="MMF", version=CODE_VERSION, description="Prompts, images and videos into 3D assets.",
                  responses=ERROR_RESPONSES, form_limits=form_limits(settings), openapi_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Location", "Idempotent-Replayed"],
    )
    # Multipart framing adds a little to the file itself.
    upload_limit = max(settings.max_upload_bytes, settings.max_image_upload_bytes) + 65536
    app.add_middleware(BodySizeLimit, default_limit=settings.max_request_bytes, upload_limit=upload_limit)
    install_error_handlers(app)
    for module in (health, generations, events, files, uploads, providers, metrics, compat, admin, docs):
        install = getattr(module, "install", None)
        if install is not None:  # a module with more to serve than its router
            install(app)
        else:
            app.include_router(module.router)
    mount_viewer(app, settings)
    return app
