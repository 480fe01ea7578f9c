"""Downloads through the local store's signed URLs (S3 serves its own presigned URLs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from apps.api import deps
from apps.api.errors import ApiError
from shared.config import Settings
from shared.errors import InvalidKey
from shared.storage import ObjectStore
from shared.storage.signing import verify

router = APIRouter(prefix="/v1/files", tags=["files"])


@router.get("/{key:path}", response_class=FileResponse)
def signed_file(
    key: str,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
    objects: Annotated[ObjectStore, Depends(deps.objects)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> FileResponse:
    from shared.storage.local import LocalObjectStore

    if not isinstance(objects, LocalObjectStore):
        raise ApiError(404, "not_found", "signed file URLs are served by the object store itself")
    if not verify(settings.signing_secret, key, expires, signature):
        raise ApiError(403, "invalid_signature", "the URL signature is invalid or has expired")
    try:
        path = objects.path_for(key)
    except InvalidKey:
        raise ApiError(403, "invalid_signature", "the URL signature is invalid or has expired") from None
    if not path.is_file():
        raise ApiError(404, "object_not_found", "the object no longer exists")
    return FileResponse(path, filename=path.name)
