"""MongoDB job store (pymongo): the production backend, same contract as SQLite."""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from shared.jobs.base import PREDECESSORS, DuplicateJob, JobRecord, JobStore, Status, utcnow

# MongoDB's error code for a unique index violation (here: a job id already recorded).
DUPLICATE_KEY = 11000

# Artifact names are file names ("scene.glb"), and a dot in a MongoDB update path means nesting.
_DOT, _DOT_STAND_IN = ".", "\uff0e"


def _escape(name: str) -> str:
    return name.replace(_DOT, _DOT_STAND_IN)


def _unescape(name: str) -> str:
    return name.replace(_DOT_STAND_IN, _DOT)


def _unescape_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unescape(name): _unescape_keys(item) for name, item in value.items()}
    return value


def _escape_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_escape(name): _escape_keys(item) for name, item in value.items()}
    return value


def _merge_update(field: str, patch: dict[str, Any]) -> dict[str, Any]:
    """The update that merges ``patch`` into ``field`` as SQLite's ``json_patch`` does (RFC 7396): nested
    objects merge key by key, ``None`` removes a key, anything else replaces. A plain ``$set`` of
    ``field.key`` would replace a nested object whole and lose what an earlier stage wrote into it."""
    sets: dict[str, Any] = {}
    unsets: dict[str, str] = {}

    def walk(prefix: str, items: dict[str, Any]) -> None:
        for name, value in items.items():
            path = f"{prefix}.{_escape(name)}"
            if value is None:
                unsets[path] = ""
            elif isinstance(value, dict) and value:
                walk(path, value)
            else:
                sets[path] = _escape_keys(value)

    walk(field, patch)
    update: dict[str, Any] = {"$set": {**sets, "updated_at": utcnow()}}
    if unsets:
        update["$unset"] = unsets
    return update


def document_ids(doc_id: str) -> list[Any]:
    """The ``_id`` values a caller's ``doc_id`` may stand for: the ObjectId it spells (MongoDB's own ids,
    the usual case), then the string itself (a document given a string id). A document the caller asks
    to create gets the first."""
    from bson import ObjectId

    return [ObjectId(doc_id), doc_id] if len(doc_id) == 24 and ObjectId.is_valid(doc_id) else [doc_id]


class MongoJobStore(JobStore):
    """One document per job, ``_id`` = job id; the client is built on first use."""

    def __init__(self, uri: str, database: str, collection: str = "jobs", client: Any = None) -> None:
        self.uri = uri
        self.database = database
        self.collection_name = collection
        self._client = client

    @cached_property
    def collection(self):
        if self._client is None:
            import pymongo

            self._client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=3000, tz_aware=False)
        collection = self._client[self.database][self.collection_name]
        collection.create_index([("owner", 1), ("idempotency_key", 1)], unique=True,
                                partialFilterExpression={"idempotency_key": {"$type": "string"}})
        collection.create_index([("created_at", -1)])
        return collection

    @staticmethod
    def _decode(document: dict[str, Any] | None) -> JobRecord | None:
        return None if document is None else MongoJobStore._record(document)

    @staticmethod
    def _record(document: dict[str, Any]) -> JobRecord:
        record = dict(document)
        record["job_id"] = record.pop("_id")
        record["artifacts"] = {_unescape(name): info for name, info in (record.get("artifacts") or {}).items()}
        if "details" in record:
            record["details"] = _unescape_keys(record["details"])
        return cast(JobRecord, record)

    def create(self, record: JobRecord) -> None:
        from pymongo.errors import DuplicateKeyError

        document = {k: v for k, v in record.items() if k != "job_id"}
        document["_id"] = record["job_id"]
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError:
            existing = self.find_by_idempotency_key(record.get("owner") or "", record.get("idempotency_key") or "")
            if existing is None:
                raise
            raise DuplicateJob(existing) from None

    def create_many(self, records: list[JobRecord]) -> int:
        from pymongo.errors import BulkWriteError

        documents = [{**{k: v for k, v in record.items() if k != "job_id"}, "_id": record["job_id"]}
                     for record in records]
        if not documents:
            return 0
        try:
            # Unordered: a document already there (an earlier, interrupted insert of the same batch)
            # does not stop the ones after it.
            return len(self.collection.insert_many(documents, ordered=False).inserted_ids)
        except BulkWriteError as error:
            if any(problem.get("code") != DUPLICATE_KEY for problem in error.details.get("writeErrors", [])):
                raise
            return error.details.get("nInserted", 0)

    def update_document(self, collection: str, doc_id: str, fields: dict[str, Any], *, create: bool = False) -> bool:
        documents = self.collection.database[collection]
        ids = document_ids(doc_id)
        if documents.update_one({"_id": {"$in": ids}}, {"$set": fields}).matched_count:
            return True
        if create:
            documents.update_one({"_id": ids[0]}, {"$set": fields}, upsert=True)
        return create

    def get_document(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        document = self.collection.database[collection].find_one({"_id": {"$in": document_ids(doc_id)}})
        if document is None:
            return None
        document.pop("_id")
        return document

    def get(self, job_id: str) -> JobRecord | None:
        return self._decode(self.collection.find_one({"_id": job_id}))

    def find_by_idempotency_key(self, owner: str, key: str) -> JobRecord | None:
        return self._decode(self.collection.find_one({"owner": owner, "idempotency_key": key}))

    def list(self, *, owner=None, kind=None, status=None, limit=20, offset=0) -> list[JobRecord]:
        query = {k: v for k, v in (("owner", owner), ("kind", kind), ("status", status)) if v is not None}
        cursor = self.collection.find(query).sort([("created_at", -1), ("_id", -1)]).skip(offset).limit(limit)
        return [self._record(doc) for doc in cursor]

    def transition(self, job_id: str, to: Status, **fields: Any) -> bool:
        allowed = PREDECESSORS[to]
        if not allowed:
            return False
        result = self.collection.update_one(
            {"_id": job_id, "status": {"$in": [s.value for s in allowed]}},
            {"$set": self.transition_fields(to, fields)},
        )
        return result.modified_count == 1

    def update_progress(self, job_id: str, *, stage: str, progress: int, message: str) -> bool:
        result = self.collection.update_one(
            {"_id": job_id, "status": Status.RUNNING.value},
            {"$set": {"stage": stage, "message": message, "updated_at": utcnow()}, "$max": {"progress": progress}},
        )
        return result.matched_count == 1

    def set_cache_key(self, job_id: str, cache_key: str) -> None:
        self.collection.update_one({"_id": job_id}, {"$set": {"cache_key": cache_key}})

    def find_completed_by_cache_key(self, owner: str, cache_key: str) -> JobRecord | None:
        cursor = self.collection.find({"owner": owner, "cache_key": cache_key, "status": Status.COMPLETED.value})
        return next((self._decode(doc) for doc in cursor.sort([("completed_at", -1)]).limit(1)), None)

    def touch(self, job_id: str) -> None:
        self.collection.update_one({"_id": job_id, "status": Status.RUNNING.value}, {"$set": {"updated_at": utcnow()}})

    def add_artifacts(self, job_id: str, artifacts: dict[str, dict[str, Any]]) -> None:
        patch = {f"artifacts.{_escape(name)}": info for name, info in artifacts.items()}
        self.collection.update_one({"_id": job_id}, {"$set": {**patch, "updated_at": utcnow()}})

    def add_details(self, job_id: str, details: dict[str, Any]) -> None:
        self.collection.update_one({"_id": job_id}, _merge_update("details", details))

    def add_timing(self, job_id: str, stage: str, seconds: float) -> None:
        update = {"$set": {f"timings.{stage}": round(seconds, 4), "updated_at": utcnow()}}
        self.collection.update_one({"_id": job_id}, update)

    def count_attempt(self, job_id: str, key: str) -> int:
        from pymongo import ReturnDocument

        document = self.collection.find_one_and_update(
            {"_id": job_id}, {"$inc": {f"attempts.{_escape(key)}": 1}}, return_document=ReturnDocument.AFTER,
            projection={"attempts": 1},
        )
        return int(document["attempts"][_escape(key)]) if document else 0

    def log_webhook(self, job_id: str, entry: dict[str, Any]) -> None:
        self.collection.update_one({"_id": job_id}, {"$push": {"webhooks": entry}})

    def add_note(self, job_id: str, note: str) -> None:
        self.collection.update_one({"_id": job_id}, {"$push": {"notes": note}, "$set": {"updated_at": utcnow()}})

    def ping(self) -> None:
        self.collection.database.client.admin.command("ping")
