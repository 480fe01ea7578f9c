"""``POST /v1/uploads``: an image or video stored under ``images/uploaded/`` or ``videos/uploaded/``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel

from apps.api import deps
from apps.api.auth import current_owner
from apps.api.errors import ApiError
from shared.config import Settings
from shared.jobs.base import new_job_id
from shared.storage import ObjectStore
from shared.uploads import sniff, upload_key

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], dependencies=[Depends(current_owner)])


class UploadCreated(BaseModel):
    upload_id: str
    key: str
    bytes: int
    content_type: str


@router.post("", status_code=201, response_model=UploadCreated)
def create_upload(
    file: Annotated[UploadFile, File(description="An image (PNG, JPEG, WebP) or a video (MP4, MOV, WebM).")],
    objects: Annotated[ObjectStore, Depends(deps.objects)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> UploadCreated:
    """The body size is capped while it streams in (see ``BodySizeLimit``); the type is sniffed here."""
    handle = file.file
    media = sniff(handle.read(16))
    if media is None:
        raise ApiError(415, "unsupported_media_type", "only PNG, JPEG, WebP images and MP4, MOV, WebM videos")
    handle.seek(0, 2)
    size = handle.tell()
    limit = settings.max_image_upload_bytes if media.family == "image" else settings.max_upload_bytes
    if size > limit:
        raise ApiError(413, "upload_too_large", f"{media.family} uploads are limited to {limit} bytes")
    if size == 0:
        raise ApiError(422, "empty_upload", "the file is empty")
    handle.seek(0)
    upload_id = new_job_id()
    key = upload_key(upload_id, media)
    with tempfile.NamedTemporaryFile(prefix="mmf-upload-") as spooled:
        shutil.copyfileobj(handle, spooled, 1 << 20)
        spooled.flush()
        info = objects.put_file(key, Path(spooled.name), media.content_type)
    return UploadCreated(upload_id=upload_id, key=key, bytes=info.bytes, content_type=media.content_type)
