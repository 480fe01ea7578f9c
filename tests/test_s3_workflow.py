"""The S3 workflow: tasks on the GPU queue over real image_to_3d jobs, the key layout, the caller's documents."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shared import s3_workflow
from shared.config import get_settings
from shared.errors import InvalidRequest
from shared.jobs import get_job_store
from shared.storage import get_object_store
from tests.conftest import poll
from tests.media import png_bytes

COLLECTION = "3d_models"


def object_photo(number: int) -> bytes:
    """A small shaded disc on a plain background, a different colour for every number."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 96), (235, 235, 235))
    draw = ImageDraw.Draw(image)
    colour = (40 + 4 * number % 200, 200 - 3 * number % 160, 60 + 5 * number % 180)
    draw.ellipse((18 + number % 7, 20, 78, 76 - number % 5), fill=colour)
    return png_bytes(image)


def wait_ready(task_id: str, timeout_s: float = 50) -> dict:
    return poll(lambda: s3_workflow.get_task_status(task_id), lambda status: status["ready"], timeout_s,
                f"task {task_id} to be ready", interval_s=0.1)


def caller_documents(collection: str, *doc_ids: str) -> None:
    """The caller's own documents, which the workflow updates (it creates none)."""
    jobs = get_job_store()
    for doc_id in doc_ids:
        jobs.update_document(collection, doc_id, {"owner_note": f"made by the caller for {doc_id}"}, create=True)


def test_model_keys_follow_the_naming_convention():
    """The reference's rule: only the extension changes (``blue_house.png`` -> ``blue_house.obj``, not a zip)."""
    assert s3_workflow.model_key_for("images/uploaded/red_car.jpg", "glb") == "3d_assets/generated/red_car.glb"
    assert s3_workflow.model_key_for("images/uploaded/blue_house.png", "obj") == "3d_assets/generated/blue_house.obj"
    assert s3_workflow.model_key_for("images/uploaded/my_object.jpeg", "glb") == "3d_assets/generated/my_object.glb"
    assert s3_workflow.model_key_for("images/generated/a/house.png", "stl") == "3d_assets/generated/a/house.stl"
    assert s3_workflow.model_key_for("images/text_to_3d/my_object.jpeg", "ply") == "3d_assets/text_to_3d/my_object.ply"
    assert s3_workflow.model_key_for("photos/x.png", "obj") == "3d_assets/model/photos/x.obj"


@pytest.mark.parametrize(("output_format", "with_texture", "field"), [
    ("gltf", None, "output_format"), ("stl", True, "with_texture")])
def test_bad_requests_are_refused_at_submit_naming_the_field(output_format, with_texture, field):
    for submit in (lambda: s3_workflow.submit_s3_image_for_3d_generation(
                       "images/uploaded/x.png", with_texture=with_texture, output_format=output_format),
                   lambda: s3_workflow.submit_batch_s3_images_for_3d_generation(
                       ["images/uploaded/x.png"], with_texture=with_texture, output_format=output_format)):
        with pytest.raises(InvalidRequest, match=f"^{field}"):
            submit()


def test_paths_outside_the_inputs_folder_are_refused(data_dir):
    settings = get_settings()
    secret = data_dir / "secret.png"
    secret.write_bytes(object_photo(0))
    for path in ("../secret.png", str(secret), "/etc/passwd", f"{settings.resolved_inputs_dir}/../secret.png"):
        with pytest.raises(InvalidRequest, match="outside the inputs folder"):
            s3_workflow.input_file(path, settings)


def test_batch_of_50_keys_makes_50_models_and_updates_50_documents(worker):
    objects, jobs = get_object_store(), get_job_store()
    keys = [f"images/uploaded/obj_{n:02d}.png" for n in range(50)]
    for number, key in enumerate(keys):
        objects.put_bytes(key, object_photo(number), "image/png")
    doc_ids = [f"batch-doc-{n}" for n in range(51)]
    caller_documents(COLLECTION, *doc_ids)
    started = time.monotonic()
    submitted = s3_workflow.submit_batch_s3_images_for_3d_generation(
        [*keys, "images/uploaded/missing.png"], collection_name=COLLECTION, doc_ids=doc_ids,
        reconstruct_provider="stub")
    assert submitted["count"] == 51
    status = wait_ready(submitted["task_id"], timeout_s=150)  # 51 jobs on 2 worker processes, on a shared machine
    print(f"batch of 51 ready in {time.monotonic() - started:.1f}s")
    assert status["progress"] == {"total": 51, "completed": 50, "failed": 1}
    assert not status["successful"]
    for number in range(50):
        model_key = f"3d_assets/generated/obj_{number:02d}.glb"
        assert objects.get_bytes(model_key)[:4] == b"glTF"
        document = jobs.get_document(COLLECTION, doc_ids[number])
        assert document["model_status"] == "success" and document["model_generated"] is True
        assert document["model_s3_url"].endswith(model_key) and document["image_s3_url"].endswith(keys[number])
        assert document["model_format"] == "glb" and document["model_with_texture"] is True
        assert document["owner_note"] == f"made by the caller for {doc_ids[number]}"  # the caller's fields stay
        job = jobs.get(document["job_id"])
        assert (job["status"], job["kind"], job["owner"]) == ("completed", "image_to_3d", "")
    failed = jobs.get_document(COLLECTION, doc_ids[50])
    assert failed["model_status"] == "failed" and failed["model_generated"] is False
    assert "no object 'images/uploaded/missing.png'" in failed["model_error"]
    assert jobs.get(failed["job_id"])["status"] == "failed"


def test_single_picture_by_s3_uri_with_the_default_reconstructor(worker):
    objects, jobs = get_object_store(), get_job_store()
    objects.put_bytes("images/uploaded/red_car.png", object_photo(7), "image/png")
    caller_documents(COLLECTION, "car")
    submitted = s3_workflow.submit_s3_image_for_3d_generation(
        "s3://any-bucket/images/uploaded/red_car.png", doc_id="car", with_texture=False, output_format="stl")
    progress = s3_workflow.get_task_status(submitted["task_id"])["progress"]
    assert progress.get("state") == "PENDING" or progress["job_id"] == submitted["job_id"]
    status = wait_ready(submitted["task_id"])
    assert status["successful"], status
    assert status["progress"]["status"] == "completed" and status["progress"]["progress"] == 100
    assert status["result"]["model_s3_key"] == "3d_assets/generated/red_car.stl"
    assert objects.exists("3d_assets/generated/red_car.stl")
    document = jobs.get_document(COLLECTION, "car")
    assert (document["model_status"], document["model_with_texture"], document["job_id"]) == (
        "success", False, submitted["job_id"])
    job = jobs.get(submitted["job_id"])
    assert job["providers"] == {"reconstruct": get_settings().default_image_reconstruct_provider}
    assert job["request"]["with_texture"] is False


def test_local_paths_under_the_inputs_folder_only(worker, data_dir):
    from shared.celery_app import app

    inputs = get_settings().resolved_inputs_dir
    (inputs / "shots").mkdir(parents=True, exist_ok=True)
    (inputs / "shots" / "cup.png").write_bytes(object_photo(3))
    (data_dir / "outside.png").write_bytes(object_photo(4))
    jobs = get_job_store()
    caller_documents("local", "cup", "evil")
    cup = str(inputs / "shots" / "cup.png")
    good = app.send_task(s3_workflow.TASK_GENERATE, args=[cup, True, "glb", "cup", "local"],
                         kwargs={"reconstruct_provider": "stub"})
    bad = app.send_task(s3_workflow.TASK_GENERATE, args=[f"{inputs}/../outside.png", True, "glb", "evil", "local"])
    assert wait_ready(good.id)["successful"]
    assert get_object_store().exists("3d_assets/generated/shots/cup.glb")
    assert jobs.get_document("local", "cup")["model_status"] == "success"
    refused = wait_ready(bad.id)
    assert not refused["successful"] and refused["progress"]["status"] == "failed"
    document = jobs.get_document("local", "evil")
    assert document["model_status"] == "failed" and "outside the inputs folder" in document["model_error"]
    assert not get_object_store().list("images/uploaded/outside")


def test_a_redelivered_workflow_task_goes_on_from_its_first_unfinished_stage():
    """Its stages run inside one task: one that finished before the task died is skipped, the rest run."""
    from shared.pipeline import assets
    from shared.pipeline.runner import run_stage

    objects, jobs = get_object_store(), get_job_store()
    objects.put_bytes("images/uploaded/blue_mug.png", object_photo(11), "image/png")
    record = s3_workflow.workflow_record("workflow-redelivered-0001", "images/uploaded/blue_mug.png", True, "glb",
                                         objects, get_settings(), "relief")
    jobs.create(record)
    # The first delivery normalised the picture, then its process died.
    run_stage(record["job_id"], "normalizing_images", assets.NORMALIZE_PROGRESS, assets.normalize_images, first=True)

    done = s3_workflow._run_stages(record["job_id"])  # the redelivery
    assert done["status"] == "completed", done
    assert done["attempts"] == {"normalizing_images": 1, "reconstructing_3d": 1, "post_processing": 1,
                                "finalizing": 1}, done["attempts"]


def test_the_references_upload_and_process_flow_verbatim(worker):
    """The S3 workflow reference's "Upload and Process Workflow", call for call: a local picture (under the
    inputs folder) is uploaded to ``images/uploaded/``, submitted, and its model lands under the same name."""
    inputs = get_settings().resolved_inputs_dir
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "blue_house.png").write_bytes(object_photo(11))
    caller_documents("user_models", "user_upload_123")

    result = s3_workflow.upload_image_and_submit_for_3d_generation(
        local_image_path=str(inputs / "blue_house.png"),
        doc_id="user_upload_123",
        collection_name="user_models",
        with_texture=True,
        output_format="glb",
    )
    assert result["status"] == "success", result
    task_id, image_url = result["task_id"], result["image_s3_url"]
    assert image_url.endswith("images/uploaded/blue_house.png")
    assert get_object_store().get_bytes("images/uploaded/blue_house.png") == object_photo(11)

    status = wait_ready(task_id)
    assert status["successful"], status
    assert status["result"]["model_s3_key"] == "3d_assets/generated/blue_house.glb"
    document = get_job_store().get_document("user_models", "user_upload_123")
    assert (document["model_status"], document["image_s3_url"]) == ("success", image_url)


def fetch_folder(prefix: str, folder: Path) -> list[str]:
    """Download every object under ``prefix`` into ``folder``; their names, sorted."""
    objects = get_object_store()
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for key in objects.list(prefix):
        name = key.rsplit("/", 1)[-1]
        (folder / name).write_bytes(objects.get_bytes(key))
        names.append(name)
    return sorted(names)


@pytest.mark.parametrize("with_texture", [True, False])
def test_an_obj_lands_as_its_own_files_beside_its_mtl_and_texture(worker, tmp_path, with_texture):
    """``blue_house.png`` -> ``blue_house.obj`` itself, ``blue_house.mtl`` and the texture beside it; trimesh's
    OBJ reader loads the folder. ``with_texture=False``: the same shape with a plain material, no texture."""
    import trimesh

    name = f"blue_house_{str(with_texture).lower()}"
    get_object_store().put_bytes(f"images/uploaded/houses/{name}.png", object_photo(21), "image/png")
    caller_documents(COLLECTION, name)
    submitted = s3_workflow.submit_s3_image_for_3d_generation(
        image_s3_key=f"images/uploaded/houses/{name}.png", doc_id=name, collection_name=COLLECTION,
        with_texture=with_texture, output_format="obj")
    status = wait_ready(submitted["task_id"])
    assert status["successful"], status
    assert status["result"]["model_s3_key"] == f"3d_assets/generated/houses/{name}.obj"
    names = fetch_folder(f"3d_assets/generated/houses/{name}", tmp_path)
    mtl = (tmp_path / f"{name}.mtl").read_text()
    assert f"mtllib {name}.mtl" in (tmp_path / f"{name}.obj").read_text()
    mesh = trimesh.load(tmp_path / f"{name}.obj", force="mesh")
    assert len(mesh.faces) == get_job_store().get(submitted["job_id"])["details"]["mesh"]["faces"]
    if with_texture:
        assert names == [f"{name}.mtl", f"{name}.obj", f"{name}_material_0.png"]
        assert f"map_Kd {name}_material_0.png" in mtl
        assert mesh.visual.kind == "texture" and mesh.visual.material.image.size[0] > 1
    else:
        assert names == [f"{name}.mtl", f"{name}.obj"]
        assert "map_" not in mtl and "Kd 0.70588235" in mtl  # PLAIN_MATERIAL_RGBA's grey
        assert getattr(mesh.visual.material, "image", None) is None
    document = get_job_store().get_document(COLLECTION, name)
    assert (document["model_status"], document["model_with_texture"]) == ("success", with_texture)


def test_a_document_that_is_not_there_is_not_created(worker):
    get_object_store().put_bytes("images/uploaded/nobody.png", object_photo(5), "image/png")
    submitted = s3_workflow.submit_s3_image_for_3d_generation("images/uploaded/nobody.png", doc_id="no-such-doc",
                                                               reconstruct_provider="stub")
    status = wait_ready(submitted["task_id"])
    assert status["successful"], status  # the model was made and placed; only the document was missing
    assert "no document 'no-such-doc' in collection '3d_models'" in status["result"]["document_error"]
    assert get_job_store().get_document(COLLECTION, "no-such-doc") is None


def test_the_references_manual_document_update_verbatim():
    """"Test MongoDB Updates" of the reference, call for call: the document is not there, so nothing is
    written and the reply says so; asked to, the helper creates it."""
    result = s3_workflow.update_mongodb_with_s3_links(
        doc_id="test_doc",
        collection_name="test_collection",
        status="pending",
        additional_data={"test": True}
    )
    assert (result["status"], result["code"]) == ("error", "document_not_found"), result
    assert get_job_store().get_document("test_collection", "test_doc") is None

    result = s3_workflow.update_mongodb_with_s3_links(
        doc_id="test_doc", collection_name="test_collection", status="pending", additional_data={"test": True},
        create_if_missing=True)
    assert result["status"] == "success"
    document = get_job_store().get_document("test_collection", "test_doc")
    assert (document["model_status"], document["test"]) == ("pending", True)

    result = s3_workflow.update_mongodb_with_s3_links(
        doc_id="test_doc", collection_name="test_collection", image_s3_url="https://example.com/i.png",
        model_s3_url="https://example.com/m.glb", additional_data={"processing_method": "gpu_enhanced"})
    assert result["status"] == "success" and "model_s3_url" in result["updated_fields"]
    document = get_job_store().get_document("test_collection", "test_doc")
    assert document["model_s3_url"] == "https://example.com/m.glb" and document["test"] is True
