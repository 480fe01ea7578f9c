"""Error types that cross layers; the API maps them to stable error codes."""

from __future__ import annotations


class MMFError(Exception):
    """Base of our own errors; ``code`` is stable and safe to show a client."""

    code = "internal_error"


class InvalidRequest(MMFError):
    code = "invalid_request"


class UnknownProvider(InvalidRequest):
    code = "unknown_provider"


class InvalidKey(InvalidRequest):
    code = "invalid_key"


class ObjectNotFound(MMFError):
    code = "object_not_found"


class ProviderError(MMFError):
    """A provider could not produce its output from valid input."""

    code = "provider_error"


class ManifestInvalid(MMFError):
    code = "manifest_invalid"


class JobCanceled(MMFError):
    """Raised at a checkpoint when the job was canceled while a stage ran."""

    code = "job_canceled"
