"""The ``text_to_3d`` and ``image_to_3d`` jobs. Each function is one stage.

text_to_3d:  generate_images -> reconstruct -> post_process -> finalize
image_to_3d: normalize_images -> reconstruct -> post_process -> finalize

Stages share nothing but the object store: the first writes the normalised views
(``views/view_N.png`` and ``views.json``), the second ``reconstruction.glb`` (the raw mesh), the
third the deliverables (``model.glb``, ``model.<fmt>``, ``thumbnail.png``) and the mesh QA details.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, cast

from shared.errors import FormatUnavailable, InvalidRequest, ProviderError
from shared.pipeline import steps
from shared.pipeline.context import StageContext
from shared.providers import registry
from shared.providers.base import ImageGenerator, Reconstructor

if TYPE_CHECKING:
    import trimesh
    from PIL import Image

    from shared.assets.images import Hint, Normalised
    from shared.assets.views import View

IMAGES_PROGRESS = steps.GENERATE_IMAGES.progress
NORMALIZE_PROGRESS = steps.NORMALIZE_IMAGES.progress
RECONSTRUCT_PROGRESS = steps.RECONSTRUCT.progress
POSTPROCESS_PROGRESS = steps.POST_PROCESS.progress
MAX_IMAGES = 8
RECONSTRUCTION = "reconstruction.glb"
URL_SCHEMES = ("https://", "http://")


def image_sources(request: dict[str, Any]) -> list[str]:
    """The job's pictures in order: object keys (or URLs) in ``images``, then ``image_urls``."""
    sources = [*(request.get("images") or []), *(request.get("image_urls") or [])]
    if not 1 <= len(sources) <= MAX_IMAGES:
        raise InvalidRequest(f"an image_to_3d job takes 1 to {MAX_IMAGES} images, not {len(sources)}")
    return sources


def _read_source(ctx: StageContext, source: str, label: str) -> bytes:
    """A picture's bytes: fetched under the SSRF policy for a URL, else read from the object store (size first)."""
    if source.lower().startswith(URL_SCHEMES):
        from shared.net.fetch import fetch_with_settings

        return fetch_with_settings(source, ctx.settings).body
    limit = ctx.settings.max_image_upload_bytes
    size = ctx.objects.size(source)
    if size > limit:
        raise InvalidRequest(f"{label} is {size} bytes, over the limit of {limit}")
    return ctx.objects.get_bytes(source)


def _store_views(ctx: StageContext, normalised: Normalised, **extra: Any) -> None:
    """Store the views, the masks they were cut with (``views/mask_N.png``) and ``views.json``; note what may be off."""
    from shared.assets.views import VIEWS_DIR, VIEWS_INDEX, index_entry, mask_name

    entries = []
    for number, (view, fact, mask) in enumerate(zip(normalised.views, normalised.facts, normalised.masks, strict=True)):
        for name, image in ((view.name, view.image), (mask_name(number), mask)):
            out = io.BytesIO()
            image.save(out, format="PNG")
            ctx.put_artifact(f"{VIEWS_DIR}/{name}", out.getvalue(), "image/png")
        entries.append(index_entry(view, mask=mask_name(number), **fact))
    index = {"views": entries, **extra}
    ctx.put_artifact(VIEWS_INDEX, json.dumps(index, indent=2).encode(), "application/json")
    for note in normalised.notes:
        ctx.note(note)
    ctx.add_details({"views": len(normalised.views),
                     "segmentation": [{"view": e["name"], **e["segmentation"]} for e in entries]})


def _normalise(ctx: StageContext, pictures: list[Image.Image], azimuths: list[float | None],
               labels: list[str], hints: list[Hint | None] | None = None, generated: bool = False) -> Normalised:
    from shared.assets.images import normalise

    settings = ctx.settings
    return normalise(pictures, azimuths, labels, settings.asset_view_size, settings.asset_view_margin, hints,
                     generated)


def _hints(ctx: StageContext, count: int) -> list[Hint | None]:
    """What the request's ``segment`` options say of each picture's subject; mask pictures read like the images."""
    from shared.assets.images import Hint, decode_image
    from shared.assets.segment_options import SEGMENT_OPTIONS, SegmentOptions

    options = SegmentOptions.model_validate(ctx.provider_options(SEGMENT_OPTIONS))
    hints: list[Hint | None] = [None] * count
    for number, given in enumerate(options.pictures[:count]):
        if given is None:
            continue
        if given.mask is None:
            hints[number] = Hint(box=given.box)
            continue
        label = f"the mask of image {number + 1} ({given.mask[:200]})"
        data = _read_source(ctx, given.mask, label)
        hints[number] = Hint(mask=decode_image(data, ctx.settings.asset_max_image_pixels, label))
    return hints


def normalize_images(ctx: StageContext) -> None:
    """image_to_3d: read every input picture (refusing bombs and unsafe URLs), find its subject, store the views."""
    from shared.assets.images import decode_image

    sources = image_sources(ctx.request)
    pictures, labels = [], []
    for number, source in enumerate(sources):
        label = f"image {number + 1} ({source[:200]})"
        ctx.report(0.5 * number / len(sources), f"reading image {number + 1} of {len(sources)}")
        pictures.append(decode_image(_read_source(ctx, source, label), ctx.settings.asset_max_image_pixels, label))
        labels.append(label)
    hints = _hints(ctx, len(sources))
    ctx.report(0.6, "finding the subject")
    normalised = _normalise(ctx, pictures, [None] * len(pictures), labels, hints)
    for fact, source in zip(normalised.facts, sources, strict=True):
        fact["source"] = source
    _store_views(ctx, normalised)
    ctx.report(1.0, f"{len(normalised.views)} views ready")


def generate_images(ctx: StageContext) -> None:
    """text_to_3d: picture the prompt's object from 4 or 8 azimuths with the ``images`` provider, store the views."""
    from shared.assets.views import even_azimuths

    prompt = (ctx.request.get("prompt") or "").strip()
    if not prompt:
        raise InvalidRequest("a text_to_3d job needs a prompt")
    name = ctx.job["providers"]["images"]
    generator = registry.create(ImageGenerator, name, ctx.provider_options("images"))
    azimuths = even_azimuths(generator.options.views)
    pictures = generator.generate(ctx, prompt, azimuths, int(ctx.request.get("seed") or 0))
    if len(pictures) != len(azimuths):
        raise ProviderError(f"images provider {name!r} made {len(pictures)} pictures for {len(azimuths)} azimuths")
    for number, picture in enumerate(pictures):
        out = io.BytesIO()
        picture.save(out, format="PNG")
        ctx.put_artifact(f"views/generated_{number}.png", out.getvalue(), "image/png")
    labels = [f"generated view {n + 1}" for n in range(len(pictures))]
    normalised = _normalise(ctx, pictures, list(azimuths), labels, generated=True)
    for number, fact in enumerate(normalised.facts):
        fact["source"] = f"views/generated_{number}.png"
    _store_views(ctx, normalised, prompt=prompt, images_provider=name)
    ctx.report(1.0, f"{len(normalised.views)} views ready")


def load_views(ctx: StageContext) -> list[View]:
    """The normalised views the first stage stored, with their azimuths."""
    from PIL import Image

    from shared.assets.views import VIEWS_DIR, VIEWS_INDEX, View

    views = []
    for entry in ctx.read_json_artifact(VIEWS_INDEX)["views"]:
        image = Image.open(io.BytesIO(ctx.read_artifact(f"{VIEWS_DIR}/{entry['name']}"))).convert("RGBA")
        views.append(View(entry["name"], image, entry.get("azimuth_deg")))
    return views


def reconstruct(ctx: StageContext) -> None:
    """Mesh the views with the job's ``reconstruct`` provider; store the raw mesh as ``reconstruction.glb``."""
    from shared.assets.postprocess import face_count

    views = load_views(ctx)
    name = ctx.job["providers"]["reconstruct"]
    reconstructor = registry.create(Reconstructor, name, ctx.provider_options("reconstruct"))
    mesh = reconstructor.reconstruct(ctx, views)
    faces = face_count(mesh)
    if faces == 0:
        raise ProviderError(f"reconstructor {name!r} returned an empty mesh")
    ctx.report(0.9, f"{faces} faces reconstructed")
    ctx.put_artifact(RECONSTRUCTION, cast(bytes, mesh.export(file_type="glb")), "model/gltf-binary")
    ctx.report(1.0, "reconstruction stored")


def _read_reconstruction(ctx: StageContext) -> trimesh.Trimesh | trimesh.Scene:
    """The raw mesh as one ``Trimesh``, or the scene when it holds several parts (named, one material
    each: a factory's model); a file that is no GLB with triangles fails the stage saying so.

    The file may come from outside this process (a cloud provider's job, a provider's own exporter), cut
    short or inconsistent: trimesh's parser then fails with whatever its JSON, struct or numpy step raised
    ("Unterminated string…", "cannot reshape…"), which would reach the client as an internal error.
    """
    import trimesh

    from shared.assets.postprocess import face_count

    data = ctx.read_artifact(RECONSTRUCTION)
    try:
        scene = cast(trimesh.Scene, trimesh.load(io.BytesIO(data), file_type="glb", force="scene", process=False))
        meshes = [g for g in scene.geometry.values() if isinstance(g, trimesh.Trimesh)]
        model = scene if len(meshes) > 1 and len(meshes) == len(scene.geometry) else scene.to_mesh()
    except Exception as error:  # every way the parser fails on foreign bytes means the same: not a readable GLB
        raise ProviderError(f"{RECONSTRUCTION} ({len(data)} bytes) is not a readable GLB: {error}") from None
    if face_count(model) == 0:
        raise ProviderError(f"{RECONSTRUCTION} ({len(data)} bytes) holds no triangles")
    return model


def _quality(ctx: StageContext, mesh: trimesh.Trimesh | trimesh.Scene, watertight: bool) -> dict[str, Any]:
    """The quality report against the view the model faces: the reconstructor's ``front_view`` (and the
    ``front_offset`` it centred the model by), else the first view as it is. A mesh made without views
    (handed to this stage as it is) and a model of parts built from a spec (the factory's: its views are
    renders of it, not evidence it was fitted to) have only the facts of the model itself."""
    import trimesh

    from shared.assets.postprocess import face_count
    from shared.assets.quality import quality_report
    from shared.assets.views import VIEWS_INDEX
    from shared.pipeline.context import job_key

    if isinstance(mesh, trimesh.Scene) or not ctx.objects.exists(job_key(ctx.job_id, VIEWS_INDEX)):
        return {"watertight": watertight, "faces": face_count(mesh)}
    details = ctx.job.get("details") or {}
    entries = ctx.read_json_artifact(VIEWS_INDEX)["views"]
    views = load_views(ctx)
    number = next((n for n, view in enumerate(views) if view.name == details.get("front_view")), 0)
    offset = details.get("front_offset") or (0.0, 0.0)
    return quality_report(mesh, views[number], entries[number], watertight, (offset[0], offset[1]))


def post_process(ctx: StageContext) -> None:
    """Clean and decimate to the tier's budget, export ``model.glb`` and the requested format, render the thumbnail."""
    import trimesh

    from shared.assets.factory import material_extensions
    from shared.assets.formats import CONTENT_TYPES, model_artifact_name, unavailable_reason, write_model
    from shared.assets.postprocess import face_count, finish, finish_parts, mesh_qa, plain, scene_qa
    from shared.geometry.glb import with_material_extensions
    from shared.geometry.render import render_mesh_thumbnail

    settings = ctx.settings
    output_format = ctx.request.get("output_format") or "glb"
    tier = ctx.request.get("quality_tier") or "standard"
    reason = unavailable_reason(output_format, settings)
    if reason is not None:
        raise FormatUnavailable(f"{reason}, which this server does not have")
    budget = settings.asset_face_budget_high if tier == "high" else settings.asset_face_budget_standard
    raw: trimesh.Trimesh | trimesh.Scene = _read_reconstruction(ctx)
    ctx.report(0.05, f"cleaning {face_count(raw)} faces")
    if isinstance(raw, trimesh.Scene) and face_count(raw) > budget:
        ctx.note(f"{len(raw.geometry)} parts ({face_count(raw)} faces) merged into one mesh to decimate to {budget}")
        raw = raw.to_mesh()
    mesh: trimesh.Trimesh | trimesh.Scene
    if isinstance(raw, trimesh.Scene):
        mesh, facts = finish_parts(raw)
    else:
        mesh, facts = finish(raw, budget, settings.asset_texture_size)
    if ctx.request.get("with_texture") is False:
        mesh = plain(mesh)
        ctx.note("with_texture=false: the model has a plain material, no texture or colours")
    ctx.report(0.6, f"{face_count(mesh)} faces after clean-up" + (" and decimation" if facts["decimated"] else ""))
    glb = write_model(mesh, "glb", ctx.workdir, settings)
    extensions = material_extensions(ctx.job.get("details"))
    if extensions:
        glb.write_bytes(with_material_extensions(glb.read_bytes(), extensions))
    ctx.put_artifact("model.glb", glb, CONTENT_TYPES["glb"])
    if output_format != "glb":
        path = write_model(mesh, output_format, ctx.workdir, settings)
        ctx.put_artifact(model_artifact_name(output_format), path, CONTENT_TYPES[output_format])
    ctx.report(0.85, "rendering the thumbnail")
    ctx.put_artifact("thumbnail.png", render_mesh_thumbnail(glb.read_bytes()), "image/png")
    qa = scene_qa(mesh) if isinstance(mesh, trimesh.Scene) else mesh_qa(mesh)
    ctx.add_details({"mesh": {**qa, **facts, "face_budget": budget, "quality_tier": tier,
                              "output_format": output_format, "model": model_artifact_name(output_format)},
                     "quality": _quality(ctx, mesh, qa["watertight"])})
    ctx.report(1.0, f"{model_artifact_name(output_format)} ready")
