"""One contract for every job store: SQLite for real, pymongo through mongomock (and a real
MongoDB when ``MONGO_URI`` is set), plus concurrent writers from several processes on SQLite."""

from __future__ import annotations

import multiprocessing
import os
import random
from pathlib import Path

import pytest

from shared.jobs import DuplicateJob, JobRecord, Status
from shared.jobs.base import new_job_record
from shared.jobs.mongo import MongoJobStore
from shared.jobs.sqlite import SQLiteJobStore
from tests.conftest import REAL_MONGO_URI

# A real MongoDB joins the contract when MONGO_URI is set (no mongod can be installed here).
BACKENDS = ["sqlite", "mongomock"] + (["mongodb"] if REAL_MONGO_URI else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        yield SQLiteJobStore(tmp_path / "jobs.sqlite3")
    elif request.param == "mongomock":
        import mongomock

        yield MongoJobStore("mongodb://unused", "mmf_test", client=mongomock.MongoClient())
    else:
        store = MongoJobStore(REAL_MONGO_URI, f"mmf_test_{os.getpid()}")
        yield store
        store.collection.database.client.drop_database(store.database)


def make_job(store, **kwargs):
    record = new_job_record("env", {"prompt": "p"}, {"plan": "stub", "env": "stub"}, **kwargs)
    store.create(record)
    return record["job_id"]


def test_create_get_roundtrip(store):
    job_id = make_job(store, owner="alice")
    job = store.get(job_id)
    assert job["job_id"] == job_id and job["status"] == "queued" and job["owner"] == "alice"
    assert job["request"] == {"prompt": "p"} and job["artifacts"] == {} and job["notes"] == []
    assert store.get("missing") is None


def test_every_store_returns_exactly_the_typed_record(store):
    """``JobRecord`` is the contract stages and routes read: a store may neither drop a field nor add one
    (a MongoDB ``_id``, a SQLite ``seq``)."""
    job_id = make_job(store, owner="alice", idempotency_key="k1", request_hash="h")
    store.transition(job_id, Status.RUNNING, stage="planning")
    listed = store.list(owner="alice")
    for job in (store.get(job_id), store.find_by_idempotency_key("alice", "k1"), *listed):
        assert set(job) == set(JobRecord.__annotations__), set(job) ^ set(JobRecord.__annotations__)


def test_status_only_moves_forward(store):
    job_id = make_job(store)
    assert not store.transition(job_id, Status.COMPLETED)  # not running yet
    assert store.transition(job_id, Status.RUNNING, stage="planning")
    assert not store.transition(job_id, Status.RUNNING)  # already claimed
    assert not store.transition(job_id, Status.QUEUED)
    assert store.transition(job_id, Status.COMPLETED, progress=100)
    for later in (Status.FAILED, Status.CANCELED, Status.RUNNING, Status.COMPLETED):
        assert not store.transition(job_id, later)
    job = store.get(job_id)
    assert job["status"] == "completed" and job["completed_at"] and job["started_at"]


def test_terminal_status_is_never_overwritten(store):
    job_id = make_job(store)
    assert store.transition(job_id, Status.CANCELED)
    assert not store.transition(job_id, Status.FAILED, error={"type": "X", "code": "x", "message": "m"})
    assert not store.update_progress(job_id, stage="planning", progress=50, message="late")
    job = store.get(job_id)
    assert job["status"] == "canceled" and job["error"] is None and job["progress"] == 0


def test_progress_never_decreases_and_needs_running(store):
    job_id = make_job(store)
    assert not store.update_progress(job_id, stage="planning", progress=5, message="early")
    store.transition(job_id, Status.RUNNING)
    assert store.update_progress(job_id, stage="generating_scene", progress=40, message="a")
    assert store.update_progress(job_id, stage="generating_scene", progress=20, message="b")
    job = store.get(job_id)
    assert job["progress"] == 40 and job["message"] == "b"


def test_artifacts_timings_notes_merge(store):
    job_id = make_job(store)
    info = {"key": f"jobs/{job_id}/scene.glb", "bytes": 3, "sha256": "0" * 64, "content_type": "model/gltf-binary"}
    store.add_artifacts(job_id, {"scene.glb": info})
    store.add_artifacts(job_id, {"views/view_0.png": {**info, "key": "k2"}})
    store.add_timing(job_id, "planning", 0.5)
    store.add_timing(job_id, "finalizing", 0.25)
    store.add_note(job_id, "first")
    store.add_note(job_id, "second")
    job = store.get(job_id)
    assert job["artifacts"]["scene.glb"] == info
    assert job["artifacts"]["views/view_0.png"]["key"] == "k2"
    assert job["timings"] == {"planning": 0.5, "finalizing": 0.25}
    assert job["notes"] == ["first", "second"]


def test_idempotency_key_is_unique_per_owner(store):
    job_id = make_job(store, owner="a", idempotency_key="k")
    with pytest.raises(DuplicateJob) as duplicate:
        make_job(store, owner="a", idempotency_key="k")
    assert duplicate.value.job_id == job_id
    assert make_job(store, owner="b", idempotency_key="k") != job_id
    make_job(store, owner="a")
    make_job(store, owner="a")  # no key: never a duplicate
    assert store.find_by_idempotency_key("a", "k")["job_id"] == job_id


def test_list_filters_and_pages_newest_first(store):
    ids = [make_job(store, owner="o") for _ in range(5)]
    make_job(store, owner="someone-else")
    store.transition(ids[0], Status.CANCELED)
    listed = [job["job_id"] for job in store.list(owner="o", limit=3)]
    assert listed == ids[::-1][:3]
    assert [job["job_id"] for job in store.list(owner="o", limit=3, offset=3)] == ids[::-1][3:]
    assert [job["job_id"] for job in store.list(owner="o", status="canceled")] == [ids[0]]


def _hammer(path: str, job_ids: list[str], seed: int, results) -> None:
    """One writer process: claim, progress and finish jobs in random order, logging successes."""
    store = SQLiteJobStore(Path(path))
    rng = random.Random(seed)
    won = []
    for _ in range(3):
        for job_id in rng.sample(job_ids, len(job_ids)):
            if store.transition(job_id, Status.RUNNING):
                won.append((job_id, "running"))
            store.update_progress(job_id, stage="s", progress=rng.randint(0, 100), message=str(seed))
            terminal = rng.choice([Status.COMPLETED, Status.FAILED, Status.CANCELED])
            if store.transition(job_id, terminal):
                won.append((job_id, terminal.value))
            seen = store.get(job_id)["status"]
            won.append((job_id, f"seen:{seen}"))
    results.put(won)


def test_concurrent_writers_never_move_a_job_backwards(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = SQLiteJobStore(path)
    job_ids = [make_job(store) for _ in range(40)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    writers = [context.Process(target=_hammer, args=(str(path), job_ids, seed, results)) for seed in range(4)]
    for writer in writers:
        writer.start()
    outcomes = [results.get(timeout=120) for _ in writers]
    for writer in writers:
        writer.join(timeout=30)
        assert writer.exitcode == 0

    rank = {"queued": 0, "running": 1, "completed": 2, "failed": 2, "canceled": 2}
    for job_id in job_ids:
        final = store.get(job_id)["status"]
        terminal_wins = [s for outcome in outcomes for j, s in outcome if j == job_id and not s.startswith("seen")
                         and s != "running"]
        claims = [s for outcome in outcomes for j, s in outcome if j == job_id and s == "running"]
        assert len(terminal_wins) == 1, (job_id, terminal_wins)
        assert final == terminal_wins[0]
        assert len(claims) <= 1
        for outcome in outcomes:  # what each process saw of this job only ever moved forward
            seen = [rank[s.removeprefix("seen:")] for j, s in outcome if j == job_id and s.startswith("seen:")]
            assert seen == sorted(seen)


def test_attempt_counters_are_per_key_and_atomic(store):
    job_id = make_job(store)
    assert [store.count_attempt(job_id, "planning") for _ in range(3)] == [1, 2, 3]
    assert store.count_attempt(job_id, "generating_scene#2") == 1
    assert store.get(job_id)["attempts"] == {"planning": 3, "generating_scene#2": 1}
    assert store.count_attempt("missing", "planning") == 0


def test_details_merge(store):
    job_id = make_job(store)
    store.add_details(job_id, {"splats": 10, "bounds": [[0, 0, 0], [1, 1, 1]]})
    store.add_details(job_id, {"registered_frames": 19})
    assert store.get(job_id)["details"] == {"splats": 10, "bounds": [[0, 0, 0], [1, 1, 1]], "registered_frames": 19}


def test_details_merge_deeply_like_a_json_merge_patch(store):
    """Two stages writing into one nested object keep each other's keys, in every store (RFC 7396 semantics)."""
    job_id = make_job(store)
    store.add_details(job_id, {"quality": {"heldout": {"psnr": 20.5}, "frames": ["a.jpg"]}, "drop": 1})
    store.add_details(job_id, {"quality": {"heldout": {"ssim": 0.8}, "frames": ["b.jpg"], "model.glb": {"faces": 3}}})
    store.add_details(job_id, {"drop": None})
    assert store.get(job_id)["details"] == {
        "quality": {"heldout": {"psnr": 20.5, "ssim": 0.8}, "frames": ["b.jpg"], "model.glb": {"faces": 3}},
    }


def test_create_many_in_one_call_keeps_order(store):
    records = [new_job_record("image_to_3d", {"images": [f"k{i}"]}, {"reconstruct": "stub"}) for i in range(50)]
    store.create_many(records)
    listed = store.list(kind="image_to_3d", limit=100)
    assert [job["job_id"] for job in listed] == [r["job_id"] for r in records][::-1]
    assert store.get(records[7]["job_id"])["request"] == {"images": ["k7"]}


def test_create_many_again_adds_only_the_missing_records(store):
    """A batch message redelivered after its insert was cut short completes it and changes nothing else."""
    records = [new_job_record("image_to_3d", {"images": [f"k{i}"]}, {"reconstruct": "stub"}) for i in range(6)]
    assert store.create_many(records[:4]) == 4  # the interrupted first write got this far
    assert store.transition(records[0]["job_id"], Status.RUNNING, stage="normalizing_images")
    assert store.create_many(records) == 2
    assert store.get(records[0]["job_id"])["status"] == "running"  # untouched by the second write
    listed = store.list(kind="image_to_3d", limit=100)
    assert sorted(job["job_id"] for job in listed) == sorted(r["job_id"] for r in records)


def test_documents_are_created_only_when_asked_and_merged(store):
    assert store.get_document("3d_models", "doc-1") is None
    assert not store.update_document("3d_models", "doc-1", {"model_status": "processing"})
    assert store.get_document("3d_models", "doc-1") is None  # nothing made beside the caller's documents
    assert store.update_document("3d_models", "doc-1", {"model_status": "processing", "image_s3_url": "s3://b/i.png"},
                                 create=True)
    assert store.update_document("3d_models", "doc-1", {"model_status": "success", "model_generated": True})
    assert store.get_document("3d_models", "doc-1") == {
        "model_status": "success", "model_generated": True, "image_s3_url": "s3://b/i.png"}
    assert store.get_document("other", "doc-1") is None


def insert_caller_document(store, collection: str, document: dict) -> None:
    """A document as the caller's own application wrote it, not through the store."""
    if isinstance(store, MongoJobStore):
        store.collection.database[collection].insert_one(dict(document))
    else:
        store.update_document(collection, str(document["_id"]), {k: v for k, v in document.items() if k != "_id"},
                              create=True)


@pytest.mark.parametrize("id_kind", ["objectid", "string", "hex-string"])
def test_a_callers_document_is_found_by_its_own_id_and_nothing_is_added(store, id_kind):
    """MongoDB's own ids are ObjectIds: a 24-hex ``doc_id`` updates that document, and a string ``_id``
    (even one spelling 24 hex digits) is matched as the string."""
    from bson import ObjectId

    collection = f"models_{id_kind}"
    oid = ObjectId()
    _id = {"objectid": oid, "string": "user_upload_123", "hex-string": str(oid)}[id_kind]
    insert_caller_document(store, collection, {"_id": _id, "title": "red car"})
    doc_id = str(_id)
    assert store.update_document(collection, doc_id, {"model_status": "success"})
    assert store.get_document(collection, doc_id) == {"title": "red car", "model_status": "success"}
    assert not store.update_document(collection, str(ObjectId()), {"model_status": "success"})
    if isinstance(store, MongoJobStore):
        stored = list(store.collection.database[collection].find())
        assert [(document["_id"], document["model_status"]) for document in stored] == [(_id, "success")]


def test_a_24_hex_document_made_on_request_gets_an_objectid(store):
    from bson import ObjectId

    doc_id = str(ObjectId())
    assert store.update_document("made", doc_id, {"model_status": "pending"}, create=True)
    assert store.get_document("made", doc_id) == {"model_status": "pending"}
    if isinstance(store, MongoJobStore):
        assert store.collection.database["made"].find_one()["_id"] == ObjectId(doc_id)


def test_cache_key_lookup_finds_only_completed_jobs_of_the_owner(store):
    done, running, foreign = make_job(store, owner="o"), make_job(store, owner="o"), make_job(store, owner="x")
    for job_id in (done, running, foreign):
        store.set_cache_key(job_id, "addr")
        store.transition(job_id, Status.RUNNING)
    store.transition(done, Status.COMPLETED)
    store.transition(foreign, Status.COMPLETED)
    assert store.find_completed_by_cache_key("o", "addr")["job_id"] == done
    assert store.find_completed_by_cache_key("o", "other") is None
    assert store.find_completed_by_cache_key("nobody", "addr") is None


def test_new_ids_are_unique_and_sort_by_creation():
    from shared.jobs.base import new_job_id

    ids = [new_job_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(job_id) == 32 and set(job_id) <= set("0123456789abcdef") for job_id in ids)
    stamps = [job_id[:12] for job_id in ids]
    assert stamps == sorted(stamps)  # made in this order, so sorted by time
    assert len({job_id[12:] for job_id in ids}) == len(ids)  # the random part alone tells them apart
