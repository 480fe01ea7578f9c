"""``mmf``: submit jobs, watch them with progress bars, download what they made.

Exit codes: 0 when everything asked for succeeded; 1 when a job that was waited for failed or was
canceled; 2 on a usage error, an HTTP error from the API, or an API that cannot be reached.
``--json`` prints one JSON document on stdout and nothing else there (errors too, as ``{"error": …}``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from apps.cli.client import TERMINAL, Api, ApiError, Unreachable
from apps.cli.config import CliSettings
from apps.cli.progress import wait_for
from shared.assets.formats import FORMATS
from shared.version import CODE_VERSION

EXIT_OK, EXIT_JOB_FAILED, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake in the command line that argparse cannot see (a bad ``--option``, an unreadable file)."""


class Output:
    """Where results go: human lines on stdout, progress and errors on stderr; or one JSON document."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def result(self, document: Any, human: Callable[[], list[str]]) -> None:
        if self.as_json:
            print(json.dumps(document, indent=2))
        else:
            for line in human():
                print(line)

    def note(self, message: str) -> None:
        if not self.as_json:
            print(message, file=sys.stderr, flush=True)

    def error(self, error: ApiError | Unreachable | UsageError) -> None:
        if isinstance(error, ApiError):
            document = error.as_dict()
            lines = [f"mmf: error: {error.message} [{error.code}, HTTP {error.status}]"]
            if error.code == "validation_error" and isinstance(error.detail, list):
                lines += [f"  {'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')}" for item in error.detail]
        else:
            document = {"code": "unreachable" if isinstance(error, Unreachable) else "usage", "message": str(error)}
            lines = [f"mmf: error: {error}"]
        if self.as_json:
            print(json.dumps({"error": document}, indent=2))
        else:
            print("\n".join(lines), file=sys.stderr)


# ---- argument parsing -------------------------------------------------------------------------------


def parse_option(text: str) -> tuple[str, str, Any]:
    """``stage.key=value``; the value is JSON when it parses (``3``, ``true``, ``[1,2]``), else a string."""
    name, sep, raw = text.partition("=")
    stage, dot, key = name.partition(".")
    if not (sep and dot and stage and key):
        raise UsageError(f"--option wants stage.key=value, not {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return stage, key, value


def parse_provider(text: str) -> tuple[str, str]:
    stage, sep, name = text.partition("=")
    if not (sep and stage and name):
        raise UsageError(f"--provider wants stage=name, not {text!r}")
    return stage, name


def job_body(kind: str, args: argparse.Namespace, **fields: Any) -> dict[str, Any]:
    """The ``POST /v1/generations`` body shared by every submit command."""
    options: dict[str, dict[str, Any]] = {}
    for text in args.option:
        stage, key, value = parse_option(text)
        options.setdefault(stage, {})[key] = value
    body: dict[str, Any] = {"kind": kind, **fields}
    if args.provider:
        body["providers"] = dict(parse_provider(text) for text in args.provider)
    if options:
        body["options"] = options
    if args.seed is not None:
        body["seed"] = args.seed
    return body


def _global_flags(parser: argparse.ArgumentParser, settings: CliSettings, defaults: bool) -> None:
    """The flags every command takes, before or after its name; after it they default to SUPPRESS so
    that leaving one out there does not undo it being given before (separate actions on each parser,
    because argparse parents share their action objects and with them the defaults)."""
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--api", default=default(settings.api_url),
                        help=f"API base URL (MMF_API_URL; now {settings.api_url})")
    parser.add_argument("--api-key", default=default(None), help="sent as X-API-Key (MMF_API_KEY)")
    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print one JSON document on stdout, nothing else")


def build_parser(settings: CliSettings) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _global_flags(common, settings, defaults=False)

    submit = argparse.ArgumentParser(add_help=False)
    submit.add_argument("--wait", action="store_true", help="follow the job with a progress bar until it ends")
    submit.add_argument("--seed", type=int, help="random seed (0 by default)")
    submit.add_argument("--provider", action="append", default=[], metavar="STAGE=NAME",
                        help="provider for a stage, e.g. env=stub (repeatable)")
    submit.add_argument("--option", action="append", default=[], metavar="STAGE.KEY=VALUE",
                        help="provider option, e.g. env.fail_message=boom; JSON values are parsed (repeatable)")
    asset = argparse.ArgumentParser(add_help=False)
    asset.add_argument("--format", dest="output_format", choices=FORMATS,
                       help="model format (glb by default)")
    asset.add_argument("--quality", dest="quality_tier", choices=["standard", "high"])
    asset.add_argument("--no-texture", dest="with_texture", action="store_const", const=False,
                       help="the shape with a plain material, no texture or colours (textured by default "
                            "wherever the format holds one)")

    parser = argparse.ArgumentParser(prog="mmf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_flags(parser, settings, defaults=True)
    parser.add_argument("--version", action="version", version=f"mmf {CODE_VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    env = commands.add_parser("env", parents=[common, submit], help="an environment from a prompt")
    env.add_argument("prompt")
    env.set_defaults(run=cmd_env)

    text = commands.add_parser("object", parents=[common, submit, asset], help="a 3D model from a prompt")
    text.add_argument("prompt")
    text.set_defaults(run=cmd_object)

    image = commands.add_parser("image", parents=[common, submit, asset], help="a 3D model from 1-8 photos")
    image.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    image.add_argument("--box", action="append", default=[], metavar="L,T,R,B",
                       help="a box around an image's subject, in its pixels: the first --box is the first image's, "
                            "and so on (- leaves one automatic)")
    image.add_argument("--mask", action="append", default=[], metavar="FILE",
                       help="a mask picture of an image, white (or opaque) on its subject: the first --mask is the "
                            "first image's, and so on (- for none)")
    image.set_defaults(run=cmd_image)

    splat = commands.add_parser("splat", parents=[common, submit], help="Gaussian splats from a video")
    splat.add_argument("video", type=Path)
    splat.set_defaults(run=cmd_splat)

    batch = commands.add_parser("batch", parents=[common, submit, asset],
                                help="one image_to_3d job per object key in a file (one key a line)")
    batch.add_argument("keys_file", type=Path, metavar="KEYS_FILE")
    batch.set_defaults(run=cmd_batch)

    status = commands.add_parser("status", parents=[common], help="a job's status, stage and progress")
    status.add_argument("job_id", metavar="JOB")
    status.set_defaults(run=cmd_status)

    download = commands.add_parser("download", parents=[common], help="an artifact of a job (the main one by default)")
    download.add_argument("job_id", metavar="JOB")
    download.add_argument("artifact", nargs="?", metavar="ARTIFACT", help="e.g. manifest.json, views/view_0.png")
    download.add_argument("-o", "--output", type=Path, default=Path("."), metavar="DIR", help="folder (default: .)")
    download.set_defaults(run=cmd_download)

    ls = commands.add_parser("ls", parents=[common], help="recent jobs, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--offset", type=int, default=0)
    ls.add_argument("--kind", choices=["env", "text_to_3d", "image_to_3d", "splat"])
    ls.add_argument("--status", choices=["queued", "running", "completed", "failed", "canceled"])
    ls.set_defaults(run=cmd_ls)

    cancel = commands.add_parser("cancel", parents=[common], help="cancel a queued or running job")
    cancel.add_argument("job_id", metavar="JOB")
    cancel.set_defaults(run=cmd_cancel)

    reconcile = commands.add_parser("reconcile", parents=[common],
                                    help="re-send jobs the broker lost, fail jobs whose worker vanished")
    reconcile.set_defaults(run=cmd_reconcile)
    return parser


# ---- commands ---------------------------------------------------------------------------------------


def status_line(status: dict[str, Any]) -> str:
    line = f"{status['job_id']}  {status['kind']}  {status['status']}"
    if status.get("stage"):
        line += f"  {status['stage']}"
    line += f"  {status.get('progress', 0)}%"
    error = status.get("error")
    if error:
        line += f"  error: {error['message']} [{error['code']}]"
    elif status.get("message"):
        line += f"  {status['message']}"
    return line


def submit_and_report(api: Api, out: Output, args: argparse.Namespace,
                      jobs: list[tuple[str, dict[str, Any]]]) -> int:
    """Submit ``(label, body)`` pairs; with ``--wait`` follow them all. Submission errors are per job."""
    created: list[dict[str, Any]] = []
    failed_submissions = 0
    for label, body in jobs:
        try:
            job = api.submit(body)
        except ApiError as error:
            if len(jobs) == 1:
                raise
            failed_submissions += 1
            created.append({"label": label, "error": error.as_dict()})
            out.note(f"mmf: {label}: not submitted: {error.message} [{error.code}]")
            continue
        created.append({"label": label, **job})
        out.note(f"submitted {job['job_id']} ({body['kind']}: {label})")
    submitted = [job for job in created if "job_id" in job]
    if not args.wait:
        single = created[0] if len(jobs) == 1 else created
        out.result(single, lambda: [job["job_id"] for job in submitted])
        return EXIT_ERROR if failed_submissions else EXIT_OK
    live = sys.stderr.isatty() and not out.as_json
    color = live and "NO_COLOR" not in os.environ
    results = wait_for(api, [(job["job_id"], job["label"]) for job in submitted], sys.stderr, live, color,
                       show=not out.as_json)
    finals: list[dict[str, Any]] = []
    exit_code = EXIT_ERROR if failed_submissions else EXIT_OK
    for job in created:
        result = results.get(job.get("job_id", ""))
        if isinstance(result, BaseException):
            out.note(f"mmf: stopped following {job['job_id']}: {result}")
            finals.append({"label": job["label"], "job_id": job["job_id"], "error": {"message": str(result)}})
            exit_code = EXIT_ERROR
        elif result is not None:
            finals.append({"label": job["label"], **result})
            if result["status"] != "completed" and exit_code == EXIT_OK:
                exit_code = EXIT_JOB_FAILED
        else:
            finals.append(job)
    summary = [status_line(final) for final in finals if final.get("status") in TERMINAL]
    if exit_code == EXIT_OK:
        summary += [f"download: mmf download {final['job_id']}" for final in finals]
    out.result(finals[0] if len(jobs) == 1 else finals, lambda: summary)
    return exit_code


def cmd_env(api: Api, out: Output, args: argparse.Namespace) -> int:
    return submit_and_report(api, out, args, [(args.prompt, job_body("env", args, prompt=args.prompt))])


def cmd_object(api: Api, out: Output, args: argparse.Namespace) -> int:
    body = job_body("text_to_3d", args, prompt=args.prompt, **_asset_fields(args))
    return submit_and_report(api, out, args, [(args.prompt, body)])


def _asset_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {name: value for name in ("output_format", "quality_tier", "with_texture")
            if (value := getattr(args, name)) is not None}


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    return path


def parse_box(text: str) -> list[float] | None:
    """``left,top,right,bottom`` in the picture's pixels, or ``-`` for none."""
    if text == "-":
        return None
    try:
        box = [float(value) for value in text.split(",")]
    except ValueError:
        box = []
    if len(box) != 4:
        raise UsageError(f"--box wants left,top,right,bottom in pixels (or - for none), not {text!r}")
    return box


def subject_hints(api: Api, out: Output, args: argparse.Namespace) -> list[dict[str, Any] | None]:
    """``options.segment.pictures`` from ``--box`` and ``--mask`` (the n-th of each goes with the n-th image;
    mask pictures are uploaded like the images); empty when neither is given."""
    boxes = [parse_box(text) for text in args.box]
    masks = [None if text == "-" else _readable(Path(text)) for text in args.mask]
    if len(boxes) > len(args.images) or len(masks) > len(args.images):
        raise UsageError("give at most one --box and one --mask per image, in the images' order")
    count = max(len(boxes), len(masks))
    boxes, masks = boxes + [None] * (count - len(boxes)), masks + [None] * (count - len(masks))
    for number, (box, mask) in enumerate(zip(boxes, masks, strict=True)):
        if box is not None and mask is not None:
            raise UsageError(f"image {number + 1} has both a --box and a --mask: give one")
    hints: list[dict[str, Any] | None] = []
    for box, mask in zip(boxes, masks, strict=True):
        if mask is not None:
            upload = api.upload(mask)["upload_id"]
            out.note(f"uploaded {mask} as {upload}")
            hints.append({"mask": upload})
        else:
            hints.append(None if box is None else {"box": box})
    return hints


def cmd_image(api: Api, out: Output, args: argparse.Namespace) -> int:
    if len(args.images) > 8:
        raise UsageError("an image_to_3d job takes at most 8 images")
    if (args.box or args.mask) and any(text.startswith("segment.") for text in args.option):
        raise UsageError("--box and --mask set options.segment: leave out --option segment.*")
    paths = [_readable(path) for path in args.images]
    hints = subject_hints(api, out, args)
    uploads = []
    for path in paths:
        uploads.append(api.upload(path)["upload_id"])
        out.note(f"uploaded {path} as {uploads[-1]}")
    label = ", ".join(path.name for path in args.images)
    body = job_body("image_to_3d", args, images=uploads, **_asset_fields(args))
    if hints:
        body.setdefault("options", {})["segment"] = {"pictures": hints}
    return submit_and_report(api, out, args, [(label, body)])


def cmd_splat(api: Api, out: Output, args: argparse.Namespace) -> int:
    upload = api.upload(_readable(args.video))
    out.note(f"uploaded {args.video} as {upload['upload_id']} ({upload['bytes']} bytes)")
    return submit_and_report(api, out, args, [(args.video.name, job_body("splat", args, video=upload["upload_id"]))])


def cmd_batch(api: Api, out: Output, args: argparse.Namespace) -> int:
    try:
        text = args.keys_file.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {args.keys_file}: {exc.strerror}") from None
    keys = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise UsageError(f"{args.keys_file} lists no object keys")
    fields = _asset_fields(args)
    return submit_and_report(api, out, args, [(key, job_body("image_to_3d", args, images=[key], **fields))
                                              for key in keys])


def cmd_status(api: Api, out: Output, args: argparse.Namespace) -> int:
    status = api.status(args.job_id)
    out.result(status, lambda: [status_line(status)])
    return EXIT_OK


def cmd_download(api: Api, out: Output, args: argparse.Namespace) -> int:
    done = api.download(args.job_id, args.artifact, args.output)
    document = {"job_id": args.job_id, "path": str(done.path), "bytes": done.bytes, "sha256": done.sha256}
    out.result(document, lambda: [f"{done.path}  ({done.bytes} bytes, sha256 {done.sha256[:16]}…)"])
    return EXIT_OK


def cmd_ls(api: Api, out: Output, args: argparse.Namespace) -> int:
    page = api.list(args.limit, args.offset, kind=args.kind, status=args.status)

    def table() -> list[str]:
        rows = [f"{'JOB':<32}  {'KIND':<11}  {'STATUS':<9}  {'STAGE':<22}  {'%':>3}  CREATED"]
        for job in page["items"]:
            rows.append(f"{job['job_id']:<32}  {job['kind']:<11}  {job['status']:<9}  {job['stage'] or '-':<22}  "
                        f"{job['progress']:>3}  {job['created_at']}")
        if page.get("next_offset") is not None:
            rows.append(f"(more: --offset {page['next_offset']})")
        return rows

    out.result(page, table)
    return EXIT_OK


def cmd_cancel(api: Api, out: Output, args: argparse.Namespace) -> int:
    status = api.cancel(args.job_id)
    out.result(status, lambda: [status_line(status)])
    return EXIT_OK


def cmd_reconcile(api: Api, out: Output, args: argparse.Namespace) -> int:
    report = api.reconcile()
    out.result(report, lambda: [f"{what} {len(report.get(what, []))}: {' '.join(report.get(what, [])) or '-'}"
                                for what in ("requeued", "resumed", "failed")])
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mmf`` script (``[project.scripts]``) and of ``python -m apps.cli.main``."""
    settings = CliSettings()
    args = build_parser(settings).parse_args(argv)
    out = Output(args.json)
    api_key = args.api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
    api = Api(args.api, api_key, settings.timeout_s)
    try:
        return args.run(api, out, args)
    except (ApiError, Unreachable, UsageError) as error:
        out.error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        out.note("mmf: interrupted; jobs already submitted go on running on the server")
        return EXIT_INTERRUPTED
    except Exception:
        # A bug here must not exit 1, which scripts read as "the job failed".
        traceback.print_exc()
        return EXIT_ERROR
    finally:
        api.close()


if __name__ == "__main__":
    raise SystemExit(main())
