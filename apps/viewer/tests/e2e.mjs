// End-to-end test of the viewer in a real Chromium against a real MMF stack.
//
//   MMF_BASE_URL=http://127.0.0.1:8000 node apps/viewer/tests/e2e.mjs
//
// The API must serve the built viewer at /viewer/ (make viewer-build). tests/test_viewer_browser.py
// starts redis, a worker and the API and runs this script. Every wait is on a selector, an event or
// a state; nothing sleeps to synchronise. Exit code 0 = all scenarios passed.
//
// With MMF_API_KEY set, the API is expected to run with API keys (API_KEYS) and other scenarios run:
// without a key the viewer says it needs one; the key is entered through the UI; then an env job is
// followed (SSE read through fetch, with the key), previewed and downloaded (a signed URL).
//
// Environment: MMF_BASE_URL (required), MMF_API_KEY (optional, see above), CHROMIUM_PATH (default
// /usr/bin/chromium), MMF_E2E_ARTIFACTS (default <repo>/test-artifacts; viewer.png and failure
// screenshots go there), MMF_E2E_SPZ (optional: a .spz of the same 6000-splat sphere, written by
// MMF's encoder, which the splat preview must decode and draw too).

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..", "..", "..");
const BASE = (process.env.MMF_BASE_URL ?? "").replace(/\/+$/, "");
const VIEWER = `${BASE}/viewer/`;
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARTIFACTS = process.env.MMF_E2E_ARTIFACTS || path.join(REPO, "test-artifacts");
const API_KEY = process.env.MMF_API_KEY ?? "";
const SPZ = process.env.MMF_E2E_SPZ ?? "";
// What this script itself sends to the API (to compare with what the page shows and downloads).
const API_HEADERS = API_KEY ? { "X-API-Key": API_KEY } : {};
const TIMEOUT_MS = 90_000;
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];
// Overlays drawn over a preview (its usage hint) are hidden while the canvas is measured.
const HIDE_OVERLAYS = '[data-testid="preview-hint"] { visibility: hidden !important; }';

if (!BASE) {
  console.error("MMF_BASE_URL is not set (e.g. http://127.0.0.1:8000)");
  process.exit(2);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Pixel statistics of a PNG, decoded by the browser itself (no image library needed here). */
async function pixelStats(helperPage, png) {
  return helperPage.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = new Map();
    let sum = 0;
    let sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const key = ((data[i] >> 3) << 10) | ((data[i + 1] >> 3) << 5) | (data[i + 2] >> 3);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const luma = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += luma;
      sumSq += luma * luma;
    }
    let background = 0;
    for (const count of counts.values()) background = Math.max(background, count);
    const mean = sum / n;
    return {
      width: canvas.width,
      height: canvas.height,
      colors: counts.size,
      foreground: 1 - background / n,
      lumaStd: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    };
  }, png.toString("base64"));
}

/** Screenshot `locator` until it shows a drawn scene (not a flat background) or the deadline passes. */
async function waitForDrawnPixels(page, helperPage, locator, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  let stats = null;
  for (;;) {
    const png = await locator.screenshot({ style: HIDE_OVERLAYS, animations: "disabled" });
    stats = await pixelStats(helperPage, png);
    if (stats.foreground > 0.05 && stats.colors > 40 && stats.lumaStd > 4) return { png, stats };
    check(Date.now() < deadline, `${what}: the canvas shows no scene after ${TIMEOUT_MS / 1000}s: ${JSON.stringify(stats)}`);
    // The next frame, not a fixed delay: wait until the browser has painted again.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  }
}

async function apiJson(pathname) {
  const response = await fetch(`${BASE}${pathname}`, { headers: API_HEADERS });
  const text = await response.text();
  check(response.ok, `${pathname}: HTTP ${response.status} ${text}`);
  return JSON.parse(text);
}

function jobIdFromUrl(url) {
  return new URL(url).searchParams.get("id");
}

/** Fill the create form for an env job and submit it; returns the new job's id (from the job page URL). */
async function createEnvJobThroughUi(page, prompt, { envProvider, failMessage, seed } = {}) {
  await page.goto(VIEWER);
  await page.getByTestId("kind-env").click();
  await page.getByTestId("prompt").fill(prompt);
  if (seed !== undefined) await page.getByTestId("seed").fill(String(seed));
  if (envProvider) await page.getByTestId("provider-env").selectOption(envProvider);
  if (failMessage) await page.getByTestId("option-env-fail_message").fill(failMessage);
  await page.getByTestId("submit").click();
  await page.waitForURL(/\/viewer\/job\/\?id=/);
  const jobId = jobIdFromUrl(page.url());
  check(jobId, `no job id in ${page.url()}`);
  await page.locator(`[data-testid="job-view"][data-job-id="${jobId}"]`).waitFor();
  return jobId;
}

async function waitForStatus(page, status) {
  await page.locator(`[data-testid="job-view"] [data-testid="status-badge"][data-status="${status}"]`).waitFor();
}

// --- scenarios ---------------------------------------------------------------------------------

/** The API requests a page makes (method, path, whether it carried X-API-Key), as they are sent. */
function recordApiRequests(page) {
  const requests = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    // blob: URLs (previews fetched with the key) share the origin but are no requests to the API.
    if (url.protocol !== "blob:" && url.origin === new URL(BASE).origin && !url.pathname.startsWith("/viewer/")) {
      requests.push({ method: request.method(), path: url.pathname, keyed: request.headers()["x-api-key"] === API_KEY });
    }
  });
  return requests;
}

async function envJobEndToEnd({ context, helperPage, results }) {
  const page = await context.newPage();
  const apiRequests = recordApiRequests(page);
  const progressSeen = new Set();
  await page.exposeFunction("__e2eProgress", (value) => progressSeen.add(value));
  await page.addInitScript(() => {
    // Record every progress value the page shows (the bar's aria-valuenow) as it changes.
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="job-progress"] [role="progressbar"]');
      if (bar) window.__e2eProgress(Number(bar.getAttribute("aria-valuenow")));
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
  });

  const jobId = await createEnvJobThroughUi(page, "a misty pine forest at dawn with a small cabin", { seed: 7 });
  // The docs pages are served without keys (and, with keys, only under PUBLIC_DOCS, unset here).
  const docsLink = page.locator(`[data-testid="docs-link"][data-served="${API_KEY ? "no" : "yes"}"]`);
  await docsLink.waitFor({ state: "attached" });
  check((await docsLink.isVisible()) === !API_KEY, `the header's docs link is ${API_KEY ? "shown" : "hidden"}`);
  await waitForStatus(page, "completed");
  const percent = await page.getByTestId("job-percent").textContent();
  check(percent.trim() === "100%", `progress shows ${percent} when completed`);
  check(progressSeen.has(100), `the progress bar never showed 100 (saw ${[...progressSeen]})`);
  const transport = await page.getByTestId("transport").getAttribute("data-transport");
  check(transport === "done", `transport ${transport} after completion`);

  // The 3D preview: model-viewer loads scene.glb and the canvas draws the scene.
  const preview = page.locator('[data-testid="model-preview"][data-state="loaded"]');
  await preview.waitFor();
  const { stats } = await waitForDrawnPixels(page, helperPage, page.locator("model-viewer"), "GLB preview");

  // Thumbnail and manifest are shown.
  const thumbnail = page.getByTestId("thumbnail");
  await thumbnail.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="thumbnail"]');
    return img && img.complete && img.naturalWidth > 0;
  });
  await page.getByTestId("manifest").filter({ hasText: jobId }).waitFor();

  // Download through the button: the same bytes as the API's download, and a GLB.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-scene.glb").click()]);
  const downloaded = readFileSync(await download.path());
  const direct = Buffer.from(
    await (await fetch(`${BASE}/v1/generations/${jobId}/download/scene.glb`, { headers: API_HEADERS })).arrayBuffer(),
  );
  check(downloaded.subarray(0, 4).toString("latin1") === "glTF", "the downloaded file does not start with glTF");
  check(downloaded.equals(direct), `downloaded ${downloaded.length} B differ from the API's ${direct.length} B`);
  check(download.suggestedFilename() === "scene.glb", `suggested file name ${download.suggestedFilename()}`);
  for (const name of Object.keys((await apiJson(`/v1/generations/${jobId}`)).artifacts)) {
    await page.getByTestId(`download-${name}`).waitFor();
  }

  mkdirSync(ARTIFACTS, { recursive: true });
  const screenshot = path.join(ARTIFACTS, API_KEY ? "viewer-keyed.png" : "viewer.png");
  await page.screenshot({ path: screenshot, fullPage: true, style: HIDE_OVERLAYS });

  // The job list on the home page shows it as completed.
  await page.goto(VIEWER);
  await page.locator(`[data-testid="job-row"][data-job-id="${jobId}"][data-status="completed"]`).waitFor();
  if (API_KEY) checkKeyedRequests(apiRequests, download.url());
  results.push({ scenario: "env job through the UI", keyed: Boolean(API_KEY), jobId, glbBytes: downloaded.length,
    canvas: stats, screenshot, apiRequests: apiRequests.length });
  await page.close();
}

/**
 * With a key, everything the page asks the API for carries it: fetches, the events stream (read
 * through fetch, which followed the job to the end without polling) and the preview's bytes; only
 * the download goes to a signed /v1/files/ URL, which carries its own signature instead.
 */
function checkKeyedRequests(requests, downloadedFrom) {
  const unkeyed = requests.filter((r) => !r.keyed && !r.path.startsWith("/v1/files/"));
  check(unkeyed.length === 0, `API requests without the key: ${JSON.stringify(unkeyed)}`);
  const count = (suffix) => requests.filter((r) => r.path.endsWith(suffix)).length;
  check(count("/events") >= 1, "the page never opened the events stream");
  check(count("/status") === 0, `the page polled /status ${count("/status")} times: the keyed stream did not last`);
  check(count("/download/scene.glb") >= 1, "the preview did not fetch scene.glb with the key");
  const signed = new URL(downloadedFrom);
  check(signed.origin === new URL(BASE).origin && signed.pathname.startsWith("/v1/files/") && signed.searchParams.has("signature"),
    `the download did not use a signed URL of this API: ${downloadedFrom}`);
}

/** Without a key the viewer says the API needs one; a wrong key is refused; the right one opens it. */
async function keyIsAskedForThenEntered({ context, results }) {
  const page = await context.newPage();
  await page.goto(VIEWER);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  const required = page.getByTestId("api-key-required");
  await required.filter({ hasText: "needs an API key" }).waitFor();
  // Behind a key the API serves no docs pages: the header does not offer a link that would 404.
  await page.locator('[data-testid="docs-link"][data-served="no"]').waitFor({ state: "attached" });
  check(!(await page.getByTestId("docs-link").isVisible()), "the header links to docs pages the API does not serve");
  await page.getByTestId("job-list").getByRole("alert").filter({ hasText: "needs an API key" }).waitFor();
  const missingText = (await required.textContent()).trim();
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, "viewer-key-required.png") });

  const enterKey = async (key) => {
    if ((await page.getByTestId("api-key-panel").count()) === 0) await page.getByTestId("api-key-button").click();
    await page.getByTestId("api-key-input").fill(key);
    await Promise.all([page.waitForEvent("load"), page.getByTestId("api-key-save").click()]);
  };
  await enterKey("not-the-key");
  await required.filter({ hasText: "refused" }).waitFor();
  const invalidText = (await required.textContent()).trim();

  await enterKey(API_KEY);
  await page.locator('[data-testid="api-key-button"][data-state="set"]').waitFor();
  await page.getByTestId("kind-env").waitFor();
  const jobList = page.getByTestId("job-list");
  await jobList.locator("table").or(jobList.getByText("No jobs yet")).waitFor();
  check((await jobList.getByRole("alert").count()) === 0, "the job list still shows an error");
  check((await required.count()) === 0, "the key is saved but the viewer still asks for one");
  results.push({ scenario: "key asked for, refused, entered", missing: missingText, invalid: invalidText });
  await page.close();
}

async function streamDropFallsBackToPolling({ context, results }) {
  const page = await context.newPage();
  const requests = { events: 0, status: 0 };
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.endsWith("/events")) requests.events += 1;
    if (pathname.endsWith("/status")) requests.status += 1;
  });
  // The stream sends one event and then drops (the response simply ends).
  await page.route("**/v1/generations/*/events", async (route) => {
    const jobId = new URL(route.request().url()).pathname.split("/").at(-2);
    const event = { job_id: jobId, kind: "env", status: "queued", stage: null, progress: 0, message: null, error: null };
    await route.fulfill({
      status: 200,
      headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
      body: `retry: 60000\n\nid: 1\nevent: status\ndata: ${JSON.stringify(event)}\n\n`,
    });
  });
  const jobId = await createEnvJobThroughUi(page, "desert ruins under a clear noon sky", { seed: 3 });
  await waitForStatus(page, "completed");
  check(requests.status >= 1, "the page never polled /status after the stream dropped");
  check(requests.events === 1, `the events stream was opened ${requests.events} times (expected 1, then polling)`);
  await page.getByTestId("transport").and(page.locator('[data-transport="done"]')).waitFor();
  // The record is reloaded at the terminal status: its artifacts are offered.
  await page.getByTestId("download-scene.glb").waitFor();
  results.push({ scenario: "SSE drop -> polling", jobId, ...requests });
  await page.close();
}

async function failedJobAndFormErrors({ context, results }) {
  const page = await context.newPage();
  // A request the API refuses: the message and the field path are shown on the form.
  await page.goto(VIEWER);
  await page.getByTestId("prompt").fill("   ");
  await page.getByTestId("submit").click();
  const formError = page.getByTestId("form-error");
  await formError.filter({ hasText: "prompt" }).waitFor();
  const formErrorText = (await formError.textContent()).trim();

  // A job whose provider fails: a readable error, no traceback.
  const reason = "the e2e test asked this job to fail";
  const jobId = await createEnvJobThroughUi(page, "a failing scene", { envProvider: "faults", failMessage: reason });
  await waitForStatus(page, "failed");
  const errorPanel = page.getByTestId("job-error");
  await errorPanel.filter({ hasText: reason }).waitFor();
  const errorText = (await errorPanel.textContent()).trim();
  check(!/Traceback|File "/.test(errorText), `the error panel shows a traceback: ${errorText}`);
  check((await page.getByTestId("cancel").count()) === 0, "a failed job still offers Cancel");
  results.push({ scenario: "failed job + form error", jobId, formError: formErrorText, jobError: errorText });
  await page.close();
}

/** A PNG drawn by the browser: a red disc on a grey field, `width` x `height`. */
async function drawnPng(page, width, height) {
  const dataUrl = await page.evaluate(([w, h]) => {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext("2d");
    g.fillStyle = "#777";
    g.fillRect(0, 0, w, h);
    g.fillStyle = "#d22";
    g.beginPath();
    g.arc(w / 2, h / 2, h / 3, 0, 2 * Math.PI);
    g.fill();
    return canvas.toDataURL("image/png");
  }, [width, height]);
  return Buffer.from(dataUrl.split(",")[1], "base64");
}

async function subjectBoxOnTheForm({ context, results }) {
  const page = await context.newPage();
  await page.goto(VIEWER);
  await page.getByTestId("kind-image_to_3d").click();
  const [width, height] = [400, 300];
  await page.getByTestId("images").setInputFiles({ name: "disc.png", mimeType: "image/png",
    buffer: await drawnPng(page, width, height) });

  // A half-typed box is refused on the form, not dropped.
  await page.getByTestId("box-0-left").fill("40");
  await page.getByTestId("submit").click();
  await page.getByTestId("form-error").filter({ hasText: "four numbers" }).waitFor();

  // A drag on the preview gives the box in the picture's own pixels (the preview is shown smaller).
  const picker = page.getByTestId("box-0-picker");
  await picker.scrollIntoViewIfNeeded(); // the submit above scrolled the page down to the button
  await page.waitForFunction(() => document.querySelector('[data-testid="box-0-picker"] img')?.naturalWidth > 0);
  const area = await picker.locator("img").boundingBox();
  check(area && area.width < width, `the preview is ${area?.width} px wide, not a reduced copy`);
  await page.mouse.move(area.x + area.width * 0.1, area.y + area.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(area.x + area.width * 0.5, area.y + area.height * 0.5, { steps: 4 });
  await page.mouse.move(area.x + area.width * 0.9, area.y + area.height * 0.8, { steps: 4 });
  await page.mouse.up();
  await page.getByTestId("box-0-outline").waitFor();
  const box = [];
  for (const corner of ["left", "top", "right", "bottom"]) box.push(Number(await page.getByTestId(`box-0-${corner}`).inputValue()));
  const expected = [0.1 * width, 0.2 * height, 0.9 * width, 0.8 * height];
  check(box.every((value, k) => Math.abs(value - expected[k]) <= 3), `dragged box ${box}, expected about ${expected}`);

  // Submitted, the API takes it as options.segment (it would refuse a malformed one): the job exists.
  const posted = page.waitForRequest((request) => request.method() === "POST" && request.url().endsWith("/v1/generations"));
  await page.getByTestId("submit").click();
  const body = JSON.parse((await posted).postData());
  check(JSON.stringify(body.options?.segment) === JSON.stringify({ pictures: [{ box }] }),
    `options.segment sent: ${JSON.stringify(body.options)}`);
  await page.waitForURL(/\/viewer\/job\/\?id=/);
  const jobId = jobIdFromUrl(page.url());
  await page.locator(`[data-testid="job-view"][data-job-id="${jobId}"]`).waitFor();
  results.push({ scenario: "subject box on the create form", jobId, box });
  await page.close();
}

/** A job served entirely by Playwright routes: lets the UI be driven where the stack cannot (yet). */
async function routeFakeJob(page, job, { onCancel, files = {} }) {
  let current = { ...job };
  const statusOf = (j) => {
    const { job_id, kind, status, stage, progress, message, error } = j;
    return { job_id, kind, status, stage, progress, message, error };
  };
  await page.route(`**/v1/generations/${job.job_id}**`, async (route) => {
    const url = new URL(route.request().url());
    const rest = url.pathname.split(`/v1/generations/${job.job_id}`)[1];
    const json = (body, status = 200) => route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
    if (rest === "" || rest === "/") return json(current);
    if (rest === "/status") return json(statusOf(current));
    if (rest === "/events") {
      return route.fulfill({
        status: 200,
        headers: { "Content-Type": "text/event-stream" },
        body: `id: 1\nevent: status\ndata: ${JSON.stringify(statusOf(current))}\n\n`,
      });
    }
    if (rest === "/cancel" && route.request().method() === "POST") {
      current = { ...current, ...onCancel };
      return json(statusOf(current));
    }
    const artifact = rest.startsWith("/download/") ? decodeURIComponent(rest.slice("/download/".length)) : null;
    if (artifact && files[artifact]) {
      return route.fulfill({ status: 200, headers: files[artifact].headers, body: files[artifact].body });
    }
    return json({ code: "not_found", message: `no route for ${rest}`, detail: null }, 404);
  });
}

function fakeJob(jobId, fields) {
  const now = new Date().toISOString();
  return {
    job_id: jobId, kind: "splat", status: "running", stage: null, progress: 0, message: null, error: null,
    request: { kind: "splat", video: "e2e-upload" }, providers: { train: "points" }, artifacts: {}, timings: {},
    notes: [], celery_task_ids: [], created_at: now, updated_at: now, started_at: now, completed_at: null,
    ...fields,
  };
}

/** A coloured sphere of Gaussians in the antimatter15 .splat layout (32 bytes per splat). */
function sphereSplat(count = 6000) {
  const buffer = Buffer.alloc(count * 32);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i += 1) {
    const y = 1 - (2 * (i + 0.5)) / count;
    const r = Math.sqrt(1 - y * y);
    const x = Math.cos(golden * i) * r;
    const z = Math.sin(golden * i) * r;
    const o = i * 32;
    buffer.writeFloatLE(x, o);
    buffer.writeFloatLE(y, o + 4);
    buffer.writeFloatLE(z, o + 8);
    for (let k = 0; k < 3; k += 1) buffer.writeFloatLE(0.05, o + 12 + 4 * k);
    buffer[o + 24] = Math.round(127 + 127 * x);
    buffer[o + 25] = Math.round(127 + 127 * y);
    buffer[o + 26] = Math.round(127 + 127 * z);
    buffer[o + 27] = 255;
    buffer[o + 28] = 255; // quaternion w = 1 (bytes are q * 128 + 128)
    buffer[o + 29] = 128;
    buffer[o + 30] = 128;
    buffer[o + 31] = 128;
  }
  return buffer;
}

/** A finished splat job whose main file is `name` (`scene.splat` or `scene.spz`): shown in 3D, with its held-out check. */
async function splatJobPreview(context, helperPage, name, body) {
  // A finished splat job (that kind's pipeline is not on this server yet), routed in the page.
  const page = await context.newPage();
  const jobId = `e2e-splat-job-${name.split(".")[1]}`;
  const manifest = JSON.stringify({ job_id: jobId, kind: "splat", artifacts: {} });
  // The training camera the preview opens at (as the converting stage writes it): in front of the sphere.
  const report = JSON.stringify({ splats: 6000, view: { position: [0, -0.5, -3.5], forward: [0, 0.141, 0.99],
    up: [0, -0.99, 0.141], fov_y_deg: 50 } });
  // A 1x1 PNG stands in for the held-out frame and its render.
  const pixel = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");
  const files = {
    [name]: { type: "application/octet-stream", body },
    "manifest.json": { type: "application/json", body: manifest },
    "splat.json": { type: "application/json", body: report },
    "evaluation/heldout_frame.jpg": { type: "image/png", body: pixel },
    "evaluation/heldout_render.jpg": { type: "image/png", body: pixel },
  };
  const splatJob = fakeJob(jobId, {
    status: "completed", stage: "finalizing", progress: 100, message: "completed",
    completed_at: new Date().toISOString(),
    artifacts: Object.fromEntries(Object.entries(files).map(([file, { type, body: bytes }]) =>
      [file, { key: `jobs/${jobId}/${file}`, bytes: bytes.length, sha256: "0", content_type: type }])),
    details: { heldout_psnr: 27.31, heldout_ssim: 0.861, train_psnr: 28.4, quality: "ok", quality_reasons: [] },
  });
  await routeFakeJob(page, splatJob, {
    files: Object.fromEntries(Object.entries(files).map(([file, { type, body: bytes }]) =>
      [file, { headers: { "Content-Type": type }, body: bytes }])),
  });
  await page.goto(`${VIEWER}job/?id=${jobId}`);
  await page.locator('[data-testid="splat-preview"][data-state="loaded"]').waitFor();
  check((await page.locator("model-viewer").count()) === 0, "a splat-only job shows a GLB viewer");
  const { stats } = await waitForDrawnPixels(page, helperPage, page.getByTestId("splat-preview"), `${name} preview`);
  const decoded = await page.getByTestId("splat-preview").getAttribute("data-splats");
  check(decoded === "6000", `the ${name} preview decoded ${decoded} splats, not the file's 6000`);
  await page.getByTestId(`download-${name}`).waitFor();
  // The held-out check: the frame beside the render from its camera, and the scores.
  for (const id of ["heldout-frame", "heldout-render"]) {
    await page.getByTestId(id).waitFor();
    await page.waitForFunction((testId) => document.querySelector(`[data-testid="${testId}"]`)?.naturalWidth > 0, id);
  }
  const scores = await page.getByTestId("heldout-psnr").innerText();
  check(scores.includes("27.3 dB") && scores.includes("0.861"), `the held-out check does not show the scores: ${scores}`);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `viewer-${name.replace(".", "-")}.png`), style: HIDE_OVERLAYS });
  await page.close();
  return stats;
}

async function splatPreviewAndCancel({ context, helperPage, results }) {
  const splat = sphereSplat();
  const canvas = { "scene.splat": await splatJobPreview(context, helperPage, "scene.splat", splat) };
  if (SPZ) canvas["scene.spz"] = await splatJobPreview(context, helperPage, "scene.spz", readFileSync(SPZ));

  // A running job: Cancel posts /cancel and the page shows the canceled state.
  const cancelPage = await context.newPage();
  const running = fakeJob("e2e-cancel-job", { kind: "env", status: "running", stage: "generating_scene", progress: 40,
    message: "building", request: { kind: "env", prompt: "a job to cancel" }, providers: { plan: "rules", env: "procedural" } });
  await routeFakeJob(cancelPage, running, { onCancel: { status: "canceled", message: "canceled by the client" } });
  await cancelPage.goto(`${VIEWER}job/?id=e2e-cancel-job`);
  await waitForStatus(cancelPage, "running");
  await cancelPage.getByTestId("job-stage").filter({ hasText: "Generating scene" }).waitFor();
  await cancelPage.getByTestId("cancel").click();
  await cancelPage.getByTestId("job-canceled").waitFor();
  await waitForStatus(cancelPage, "canceled");
  check((await cancelPage.getByTestId("cancel").count()) === 0, "a canceled job still offers Cancel");
  await cancelPage.close();
  results.push({ scenario: "splat preview + cancel (routed fake jobs)", splatBytes: splat.length, canvas });
}

// --- main ----------------------------------------------------------------------------------------

const SCENARIOS = API_KEY
  ? [keyIsAskedForThenEntered, envJobEndToEnd]
  : [envJobEndToEnd, streamDropFallsBackToPolling, failedJobAndFormErrors, splatPreviewAndCancel, subjectBoxOnTheForm];

async function main() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "mmf-e2e-chromium-"));
  const pageErrors = [];
  const consoleErrors = [];
  const results = [];
  const started = Date.now();
  let passed = 0;
  let failed = 0;
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: false, // --headless is passed below with the other flags, exactly as listed
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      timeout: 60_000,
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    context.on("page", (page) => {
      page.on("pageerror", (error) => pageErrors.push(`${page.url()}: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
      });
    });
    const helperPage = context.pages()[0] ?? (await context.newPage());
    for (const scenario of SCENARIOS) {
      const t0 = Date.now();
      try {
        await scenario({ context, helperPage, results });
        passed += 1;
        console.log(`ok - ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      } catch (error) {
        failed += 1;
        console.log(`not ok - ${scenario.name}: ${error.stack ?? error}`);
        mkdirSync(ARTIFACTS, { recursive: true });
        for (const [index, page] of context.pages().entries()) {
          await page
            .screenshot({ path: path.join(ARTIFACTS, `viewer-failure-${scenario.name}-${index}.png`), fullPage: true })
            .catch(() => undefined);
        }
      }
    }
  } catch (error) {
    failed += 1;
    console.log(`not ok - the browser: ${error.stack ?? error}`);
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  }
  if (pageErrors.length > 0) {
    failed += 1;
    console.log(`not ok - uncaught errors in the page:\n${pageErrors.join("\n")}`);
  }
  console.log(JSON.stringify({ seconds: (Date.now() - started) / 1000, results, consoleErrors }, null, 2));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed !== SCENARIOS.length ? 1 : 0);
}

await main();
