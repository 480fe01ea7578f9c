"""Request-body caps enforced while the body streams in, so a chunked upload cannot fill the disk."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from apps.api.errors import error_response
from shared.config import Settings

# The upload route reads one file part and no text field. Starlette keeps every text field in memory
# (by default up to 1,000 of 1 MiB each, and a file part spools its first MiB in memory too), so a few
# small stray fields are tolerated and nothing more: one upload body costs one spooled file.
FORM_MAX_FIELDS = 8
FORM_MAX_FIELD_BYTES = 64 * 1024


def form_limits(settings: Settings) -> dict[str, int]:
    """Caps of FastAPI's multipart parsing; a part past them ends the parse with a 413 (``errors.py``)."""
    return {"max_files": settings.max_upload_files, "max_fields": FORM_MAX_FIELDS,
            "max_part_size": FORM_MAX_FIELD_BYTES}


class BodySizeLimit:
    """ASGI middleware: 413 once a request body passes its path's limit (declared or streamed).

    Upload paths get ``upload_limit``; every other route takes small JSON and gets ``default_limit``.
    """

    def __init__(self, app: ASGIApp, default_limit: int, upload_limit: int, upload_prefix: str = "/v1/uploads"):
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(self.upload_prefix) else self.default_limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                await self._reject(scope, receive, send, limit)
                return
            # The server reads no more than a declared length: only a chunked body needs counting.
            await self.app(scope, receive, send)
            return
        seen = 0
        started = rejected = False

        async def counting_receive():
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request" and not rejected:
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the app the client went away: it stops reading, and
                    # whatever it tries to send afterwards is dropped.
                    rejected = True
                    if not started:
                        await self._reject(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(413, "body_too_large", f"request bodies here are limited to {limit} bytes")
        await response(scope, receive, send)
