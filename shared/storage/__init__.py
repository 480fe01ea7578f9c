"""Object stores: a local folder (the embedded default) and S3, behind one interface."""

from __future__ import annotations

from shared.storage.base import ObjectInfo, ObjectStore, validate_key
from shared.storage.factory import get_object_store, open_object_store

__all__ = ["ObjectInfo", "ObjectStore", "get_object_store", "open_object_store", "validate_key"]
