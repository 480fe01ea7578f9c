"""The viewer (apps/viewer) in a real Chromium against a real stack: redis, a worker, a uvicorn API.

The API serves the built static export at ``/viewer/``; ``apps/viewer/tests/e2e.mjs`` (playwright-core)
creates an env job through the form, follows it to ``completed``, checks that the 3D canvas draws
the scene, downloads the GLB through its button and compares it with the API's bytes, shows a failed
job's error, drops the event stream to see polling take over, and previews a ``.splat`` (with its held-out
check: the frame beside the render, and the scores), and draws a subject box on an image job's picture
(typed half is refused on the form; dragged, it reaches the API as ``options.segment``). The
screenshot is left in ``test-artifacts/viewer.png``.

A second API on the same stack runs with API keys (``API_KEYS``): there the viewer must say that it
needs a key, take one through its "API key" control, and then follow, preview and download an env
job with it (``MMF_API_KEY``; screenshot ``test-artifacts/viewer-keyed.png``).

Nothing here is skipped: a missing build or browser is a failure that says what to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

from apps.api.auth import hash_key
from apps.api.viewer import mount_viewer
from infra.local import stack
from shared.splat.convert import SH_C0
from shared.splat.ply import Gaussians, write_ply
from shared.splat.spz import ply_to_spz

ROOT = Path(__file__).resolve().parents[1]
VIEWER = ROOT / "apps" / "viewer"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
E2E_TIMEOUT_S = 240
E2E_API_KEY = "e2e-viewer-key"

pytestmark = pytest.mark.browser


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the viewer tests need Node 20+ (and `make viewer-build`)")
    return node


def _require_installed() -> None:
    if not (VIEWER / "node_modules" / "playwright-core").is_dir():
        pytest.fail("the viewer's npm packages are not installed: run `make viewer-build` "
                    "(npm ci --prefix apps/viewer && next build)")


def _require_built() -> None:
    _require_installed()
    if not (VIEWER / "out" / "index.html").is_file():
        pytest.fail("the viewer is not built (apps/viewer/out/index.html is missing): run `make viewer-build`")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` (as root), "
                    "or set CHROMIUM_PATH")


def _run_node(args: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([_node(), *args], cwd=VIEWER, env=env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as expired:
        out = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        pytest.fail(f"node {' '.join(args)} did not finish within {timeout_s}s:\n{out[-6000:]}")


@pytest.fixture(scope="module")
def viewer_api(live_api):
    """The live API serving the built viewer."""
    _require_built()
    page = httpx.get(f"{live_api}/viewer/", timeout=10)
    if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
        pytest.fail(f"the API does not serve the viewer at /viewer/ ({page.status_code}: {page.text[:300]}); "
                    "create_app must call apps.api.viewer.mount_viewer(app, settings)")
    return live_api


@pytest.fixture(scope="module")
def keyed_viewer_api(worker, data_dir):
    """A second uvicorn on the same Redis, worker and stores, with one API key configured.

    Its PUBLIC_BASE_URL is the tests' ``http://testserver``, which the browser cannot reach: the
    viewer must rebase the signed URLs it downloads from onto the API it talks to."""
    _require_built()
    port = stack.free_port()
    env = {**os.environ, "API_KEYS": f"e2e:{hash_key(E2E_API_KEY)}"}
    service = stack.start_api("127.0.0.1", port, env, data_dir / "logs" / "keyed-api", name="keyed-api")
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            stack.wait_for_api(base_url, api_key=E2E_API_KEY)
        except TimeoutError:
            pytest.fail(f"the keyed API did not become ready:\n{service.log_path.read_text()[-4000:]}")
        assert httpx.get(f"{base_url}/v1/generations", timeout=10).status_code == 401
        yield base_url
    finally:
        service.stop()


def _run_e2e(base_url: str, screenshot_name: str, scenarios: int, extra_env: dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / screenshot_name
    screenshot.unlink(missing_ok=True)
    env = {**os.environ, "MMF_BASE_URL": base_url, "CHROMIUM_PATH": CHROMIUM, "MMF_E2E_ARTIFACTS": str(ARTIFACTS),
           **extra_env}
    result = _run_node(["tests/e2e.mjs"], env, E2E_TIMEOUT_S)
    report = f"{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"viewer e2e failed (screenshots in {ARTIFACTS}):\n{report}"
    assert f"{scenarios} passed, 0 failed" in result.stdout, report
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, f"no screenshot at {screenshot}"


def test_mount_viewer_without_a_build_answers_json_404(tmp_path):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()
    assert mount_viewer(app, SimpleNamespace(viewer_dir=tmp_path / "missing")) is False
    client = TestClient(app)
    for path in ("/viewer", "/viewer/", "/viewer/job/?id=x"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert response.json() == {"code": "viewer_not_built", "message": "run make viewer-build", "detail": None}


def test_mount_viewer_serves_the_static_export(tmp_path):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    (tmp_path / "job").mkdir()
    (tmp_path / "index.html").write_text("<html>home</html>")
    (tmp_path / "job" / "index.html").write_text("<html>job</html>")
    (tmp_path / "404.html").write_text("<html>missing</html>")
    app = FastAPI()
    assert mount_viewer(app, SimpleNamespace(viewer_dir=tmp_path)) is True
    client = TestClient(app)
    assert client.get("/viewer", follow_redirects=False).status_code in (307, 308)
    assert client.get("/viewer/").text == "<html>home</html>"
    assert client.get("/viewer/job/?id=abc").text == "<html>job</html>"
    missing = client.get("/viewer/nope/")
    assert (missing.status_code, missing.text) == (404, "<html>missing</html>")


def test_live_status_follows_stream_then_polls():
    """Unit tests of the SSE-then-polling logic (node's test runner, fake EventSource and timers) and of
    the fetch-based SSE reader used with an API key (fake fetch)."""
    _require_installed()
    result = _run_node(["--test", "tests/live-status.test.mjs", "tests/fetch-event-source.test.mjs"],
                       dict(os.environ), 120)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert "# fail 0" in result.stdout


def sphere_spz(path: Path, count: int = 6000) -> Path:
    """The e2e script's sphere of Gaussians (a Fibonacci sphere coloured by position), through our .spz encoder."""
    i = np.arange(count) + 0.5
    y = 1 - 2 * i / count
    angle = np.pi * (3 - np.sqrt(5)) * (i - 0.5)
    means = np.stack([np.cos(angle) * np.sqrt(1 - y * y), y, np.sin(angle) * np.sqrt(1 - y * y)], axis=1)
    colour = np.round(127 + 127 * means) / 255
    gaussians = Gaussians(means=means.astype(np.float32), sh_dc=((colour - 0.5) / SH_C0).astype(np.float32),
                          sh_rest=np.zeros((count, 45), np.float32), opacities=np.full(count, 8.0, np.float32),
                          log_scales=np.full((count, 3), np.log(0.05), np.float32),
                          quats=np.tile(np.array([1, 0, 0, 0], np.float32), (count, 1)))
    write_ply(path.with_suffix(".ply"), gaussians)
    ply_to_spz(path.with_suffix(".ply"), path, max_vertices=count, max_bytes=1 << 30)
    return path


def test_viewer_in_browser(viewer_api, tmp_path):
    """Every scenario; the splat preview shows both a .splat and a .spz our encoder wrote (Spark decodes it)."""
    _run_e2e(viewer_api, "viewer.png", 5, {"MMF_E2E_SPZ": str(sphere_spz(tmp_path / "sphere.spz"))})


def test_viewer_in_browser_with_an_api_key(keyed_viewer_api):
    """401 message without a key, the key entered in the UI, then an env job followed, previewed, downloaded."""
    _run_e2e(keyed_viewer_api, "viewer-keyed.png", 2, {"MMF_API_KEY": E2E_API_KEY})
