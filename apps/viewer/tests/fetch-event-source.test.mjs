// Unit tests of lib/fetch-event-source.ts (Server-Sent Events through fetch, used with an API key),
// with node's test runner: `node --test tests/fetch-event-source.test.mjs`. The module has type-only
// imports; it is transpiled here with the project's own `typescript` package.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { importLib } from "./import-lib.mjs";

const { openFetchEventSource } = await importLib("fetch-event-source");

/** A fetch answering with `chunks` as the body, one chunk per read; records each request. */
function fakeFetch(chunks, { status = 200, hold = false } = {}) {
  const requests = [];
  const fetchImpl = async (url, init) => {
    requests.push({ url, init });
    const encoder = new TextEncoder();
    const body = new ReadableStream({
      async pull(controller) {
        if (chunks.length > 0) controller.enqueue(encoder.encode(chunks.shift()));
        else if (hold) await new Promise((resolve) => init.signal.addEventListener("abort", resolve));
        else controller.close();
      },
    });
    return new Response(body, { status, headers: { "Content-Type": "text/event-stream" } });
  };
  return { fetchImpl, requests };
}

/** Open a source and record what it reports; `ended` resolves at its first onerror. */
function follow(fetchImpl, types = ["status", "timeout"]) {
  const events = [];
  let opened = 0;
  let errors = 0;
  let ended;
  const endedPromise = new Promise((resolve) => (ended = resolve));
  const source = openFetchEventSource("http://api.test/v1/generations/j1/events", { "X-API-Key": "k1" }, fetchImpl);
  source.onopen = () => (opened += 1);
  source.onerror = () => {
    errors += 1;
    ended();
  };
  for (const type of types) source.addEventListener(type, (event) => events.push([type, JSON.parse(event.data)]));
  return { source, events, ended: endedPromise, counts: () => ({ opened, errors }) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("openFetchEventSource", () => {
  test("sends the headers and dispatches events split anywhere across chunks", async () => {
    const { fetchImpl, requests } = fakeFetch([
      "retry: 2000\n\nid: 1\nevent: sta",
      'tus\ndata: {"status":"running","progress":10}\r\n\r',
      "\n: heartbeat\n\nid: 2\nevent: status\ndata: {\"status\":",
      '"completed","progress":100}\n\n',
    ]);
    const h = follow(fetchImpl);
    await h.ended;
    assert.equal(requests[0].url, "http://api.test/v1/generations/j1/events");
    assert.equal(requests[0].init.headers["X-API-Key"], "k1");
    assert.equal(requests[0].init.headers.Accept, "text/event-stream");
    assert.deepEqual(h.events, [
      ["status", { status: "running", progress: 10 }],
      ["status", { status: "completed", progress: 100 }],
    ]);
    assert.deepEqual(h.counts(), { opened: 1, errors: 1 }, "the end of the stream is reported once, as an error");
  });

  test("a refused request (401) reports an error without opening", async () => {
    const { fetchImpl } = fakeFetch(['{"code":"missing_api_key"}'], { status: 401 });
    const h = follow(fetchImpl);
    await h.ended;
    assert.deepEqual(h.events, []);
    assert.deepEqual(h.counts(), { opened: 0, errors: 1 });
  });

  test("a network failure reports an error", async () => {
    const h = follow(async () => {
      throw new TypeError("fetch failed");
    });
    await h.ended;
    assert.deepEqual(h.counts(), { opened: 0, errors: 1 });
  });

  test("close() stops quietly: no error, no later events", async () => {
    const { fetchImpl } = fakeFetch(['event: status\ndata: {"status":"queued"}\n\n'], { hold: true });
    const h = follow(fetchImpl);
    for (let i = 0; i < 20 && h.events.length === 0; i += 1) await flush();
    assert.deepEqual(h.events, [["status", { status: "queued" }]]);
    h.source.close();
    for (let i = 0; i < 5; i += 1) await flush();
    assert.deepEqual(h.counts(), { opened: 1, errors: 0 });
  });

  test("a listener that closes the source stops the events after it", async () => {
    const { fetchImpl } = fakeFetch([
      'event: status\ndata: {"status":"completed"}\n\nevent: status\ndata: {"status":"late"}\n\n',
    ]);
    const seen = [];
    const source = openFetchEventSource("http://api.test/e", {}, fetchImpl);
    let errors = 0;
    source.onerror = () => (errors += 1);
    source.addEventListener("status", (event) => {
      seen.push(JSON.parse(event.data).status);
      source.close();
    });
    for (let i = 0; i < 20; i += 1) await flush();
    assert.deepEqual(seen, ["completed"]);
    assert.equal(errors, 0);
  });
});
