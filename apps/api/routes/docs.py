"""The OpenAPI document (``/openapi.json``) and its two readers, Swagger UI (``/docs``) and ReDoc (``/redoc``).

FastAPI's own routes for these are turned off (``create_app`` passes ``openapi_url=None``) because they
are always public. Here, when API keys are configured and ``PUBLIC_DOCS`` is false:

- ``/openapi.json`` needs ``X-API-Key`` like every other route (401 ``missing_api_key`` without one);
- the HTML pages are not served (404 ``docs_not_public``): they fetch ``/openapi.json`` from the browser,
  which cannot add the header, so behind a key they could only show an error. Read the document with
  ``curl -H 'X-API-Key: …' …/openapi.json``, or set ``PUBLIC_DOCS=true`` to publish it and both pages.

Without keys (or with ``PUBLIC_DOCS=true``) all four answer exactly as FastAPI's defaults do. The decision
is taken per request from the settings dependency, like every other key check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse

from apps.api import deps
from apps.api.auth import docs_are_public, document_reader
from apps.api.errors import ApiError
from shared.config import Settings

OPENAPI_PATH = "/openapi.json"
SWAGGER_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"

router = APIRouter(include_in_schema=False)


async def public_docs_only(settings: Annotated[Settings, Depends(deps.settings)]) -> None:
    if not docs_are_public(settings):
        raise ApiError(404, "docs_not_public", "the API documentation is not public on this server: read "
                       f"{OPENAPI_PATH} with your X-API-Key, or set PUBLIC_DOCS=true to publish it")


def _document_url(request: Request) -> str:
    """The document's URL as the browser must ask for it (behind a proxy's path prefix too)."""
    return request.scope.get("root_path", "").rstrip("/") + OPENAPI_PATH


@router.get(OPENAPI_PATH, dependencies=[Depends(document_reader)])
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get(SWAGGER_PATH, dependencies=[Depends(public_docs_only)])
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=_document_url(request), title=f"{request.app.title} - Swagger UI",
                               oauth2_redirect_url=OAUTH2_REDIRECT_PATH)


@router.get(OAUTH2_REDIRECT_PATH, dependencies=[Depends(public_docs_only)])
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_PATH, dependencies=[Depends(public_docs_only)])
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url=_document_url(request), title=f"{request.app.title} - ReDoc")
