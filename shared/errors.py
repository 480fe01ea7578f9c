"""Error types that cross layers; the API maps them to stable error codes."""

from __future__ import annotations

from typing import Any


class MMFError(Exception):
    """Base of our own errors; ``code`` is stable and safe to show a client."""

    code = "internal_error"

    def __init__(self, message: str = "", detail: Any = None) -> None:
        super().__init__(message)
        self.detail = detail


class InvalidRequest(MMFError):
    code = "invalid_request"


class UnknownProvider(InvalidRequest):
    code = "unknown_provider"


class InvalidOptions(InvalidRequest):
    code = "invalid_options"


def validation_detail(error: Any) -> list[dict[str, Any]]:
    """A pydantic ``ValidationError`` as a list of ``{loc, msg, type}``: field paths a client can act on."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]


class PromptTooLong(InvalidRequest):
    code = "prompt_too_long"


class IdempotencyConflict(MMFError):
    """An ``Idempotency-Key`` used before with a different request."""

    code = "idempotency_conflict"


class QueueUnavailable(MMFError):
    """The broker refused the job's chain: it was recorded, marked failed, and not started."""

    code = "broker_unavailable"


class JobFinished(MMFError):
    """A cancel for a job that has already ended."""

    code = "job_finished"


class InvalidPlan(InvalidRequest):
    code = "invalid_plan"


class ProviderUnavailable(InvalidRequest):
    """The provider exists but this server is not configured to run it."""

    code = "provider_unavailable"


class InvalidKey(InvalidRequest):
    code = "invalid_key"


class UrlRefused(InvalidRequest):
    """A URL we will not fetch: its scheme, its credentials, or an address it resolves to (SSRF guard)."""

    code = "url_refused"


class FetchFailed(InvalidRequest):
    """A URL we may fetch did not give us a body: no connection, an error status, a timeout, too many redirects."""

    code = "fetch_failed"


class FetchTooLarge(InvalidRequest):
    code = "fetch_too_large"


class InvalidImage(InvalidRequest):
    """An input image that cannot be decoded, or shows no object we can cut out."""

    code = "invalid_image"


class ImageTooLarge(InvalidRequest):
    """An image whose header announces more pixels than the cap (a decompression bomb is one)."""

    code = "image_too_large"


class TextureUnsupported(InvalidRequest):
    """``with_texture=true`` for an output format that holds no texture or colour (STL)."""

    code = "texture_unsupported"


class FormatUnavailable(InvalidRequest):
    """An output format this server cannot write (fbx without its converter, usdz without USD)."""

    code = "format_unavailable"


class TransientError(MMFError):
    """A fault that may pass by itself (a dropped connection, a throttled request): worth retrying."""

    code = "transient_error"


_TRANSIENT_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                              "InternalError", "ServiceUnavailable", "503", "500"})


def is_transient(exc: BaseException) -> bool:
    """Network and service faults that a retry with backoff may cure; never a validation error."""
    if isinstance(exc, (TransientError, ConnectionError, TimeoutError)):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
                "AutoReconnect", "NetworkTimeout", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError"}:
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code") in _TRANSIENT_CODES
    return False


class ObjectNotFound(MMFError):
    code = "object_not_found"


class ProviderError(MMFError):
    """A provider could not produce its output from valid input."""

    code = "provider_error"


class ManifestInvalid(MMFError):
    code = "manifest_invalid"


class StageCrashed(MMFError):
    """A stage was delivered again and again without finishing: its process died each time."""

    code = "stage_crashed"


class WorkerLost(MMFError):
    """A running job's worker stopped heartbeating and its task is nowhere in the broker."""

    code = "worker_lost"


class JobCanceled(MMFError):
    """Raised at a checkpoint when the job was canceled while a stage ran."""

    code = "job_canceled"
