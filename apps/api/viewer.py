"""The viewer (``apps/viewer``, a Next.js static export) served by the API at ``/viewer/``.

``make viewer-build`` writes the export to ``apps/viewer/out/``. When it is there, ``/viewer/``
serves it (``html=True``: ``/viewer/job/`` answers ``job/index.html``, unknown paths the export's
``404.html``); when it is not, every ``/viewer`` path answers a JSON 404 saying how to build it.
Same origin as the API, so the viewer calls the API with relative URLs and needs no CORS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.staticfiles import StaticFiles

VIEWER_OUT = Path(__file__).resolve().parents[1] / "viewer" / "out"
MOUNT_PATH = "/viewer"


def viewer_dir(settings: Any) -> Path:
    """The built export: ``settings.viewer_dir`` when the settings define one, else ``apps/viewer/out``."""
    configured = getattr(settings, "viewer_dir", None)
    return Path(configured).expanduser() if configured else VIEWER_OUT


def mount_viewer(app: FastAPI, settings: Any) -> bool:
    """Serve the viewer at ``/viewer/``; returns whether a built viewer was found."""
    directory = viewer_dir(settings)
    if (directory / "index.html").is_file():
        app.mount(MOUNT_PATH, StaticFiles(directory=directory, html=True), name="viewer")
        return True

    async def viewer_not_built() -> JSONResponse:
        body = {"code": "viewer_not_built", "message": "run make viewer-build", "detail": None}
        return JSONResponse(body, status_code=404)

    for path in (MOUNT_PATH, f"{MOUNT_PATH}/{{path:path}}"):
        app.add_api_route(path, viewer_not_built, methods=["GET", "HEAD"], include_in_schema=False)
    return False
