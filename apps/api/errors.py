"""Every error leaves the API as JSON ``{code, message, detail}`` with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from shared.errors import IdempotencyConflict, InvalidRequest, JobFinished, MMFError, ObjectNotFound, QueueUnavailable
from shared.schemas.api import ErrorBody

log = logging.getLogger(__name__)

_STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}

# What every operation declares for its errors. The handlers below turn every error (FastAPI's request
# validation included) into ``ErrorBody``, so the document says so instead of FastAPI's default 422
# ``HTTPValidationError``, which this API never sends; a "4XX" entry also keeps FastAPI from adding that.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "The request was refused: a stable `code` and a message; a 422 "
            "`validation_error` lists the offending fields in `detail` as `{loc, msg, type}`."},
    "5XX": {"model": ErrorBody, "description": "The server failed (`internal_error`) or a part it needs is down "
            "(503 `not_ready` names the parts in `detail`)."},
}


# Starlette reports a multipart body past a parsing cap (``limits.form_limits``) as a 400 raised while
# handling a MultiPartException, whose message alone says which cap: each gets its own code here.
_MULTIPART_CAPS = (("Too many files", "too_many_files"), ("Too many fields", "too_many_fields"),
                   ("Part exceeded maximum size", "form_field_too_large"))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.detail, self.headers = status, code, message, detail, headers


# The service layer's refusals (``shared.pipeline.service``) that are not a bad request.
_SERVICE_STATUS: dict[type[MMFError], int] = {IdempotencyConflict: 409, JobFinished: 409, QueueUnavailable: 503}


def error_response(status: int, code: str, message: str, detail: Any = None, headers: dict | None = None):
    body = {"code": code, "message": message, "detail": jsonable_encoder(detail)}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return error_response(422, "validation_error", "the request is not valid", detail)

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest):
        return error_response(422, exc.code, str(exc), exc.detail)

    @app.exception_handler(ObjectNotFound)
    async def _missing_object(_: Request, exc: ObjectNotFound):
        return error_response(404, exc.code, f"object not found: {exc}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        if isinstance(exc.__context__, MultiPartException):
            message = str(exc.detail)
            code = next((code for prefix, code in _MULTIPART_CAPS if message.startswith(prefix)), None)
            return error_response(413, code, message) if code else error_response(400, "invalid_multipart", message)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(MMFError)
    async def _ours(_: Request, exc: MMFError):
        status = _SERVICE_STATUS.get(type(exc))
        if status is not None:
            return error_response(status, exc.code, str(exc), exc.detail)
        log.exception("unhandled service error")
        return error_response(500, exc.code, "internal error")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
