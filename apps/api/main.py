"""The FastAPI application factory (``uvicorn --factory apps.api.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from apps.api.errors import install_error_handlers
from apps.api.routes import files, generations, health
from shared.config import get_settings
from shared.version import CODE_VERSION


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="MMF", version=CODE_VERSION, description="Prompts, images and videos into 3D assets.")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Location", "Idempotent-Replayed"],
    )
    install_error_handlers(app)
    for module in (health, generations, files):
        app.include_router(module.router)
    return app
