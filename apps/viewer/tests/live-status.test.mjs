// Unit tests of lib/live-status.ts (SSE first, polling when the stream drops), with node's test
// runner: `node --test tests/live-status.test.mjs`. The module is plain TypeScript without
// imports; it is transpiled here with the project's own `typescript` package.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { importLib } from "./import-lib.mjs";

const { followStatus } = await importLib("live-status");

class FakeEventSource {
  constructor() {
    this.listeners = new Map();
    this.onerror = null;
    this.onopen = null;
    this.closed = false;
  }
  addEventListener(type, listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({});
  }
  emit(type, data) {
    for (const listener of this.listeners.get(type) ?? []) listener({ data: JSON.stringify(data) });
  }
  fail() {
    this.onerror?.({});
  }
}

/** Timers run by hand: `tick()` fires what is due, in order; no real time passes. */
class FakeTimers {
  constructor() {
    this.now = 0;
    this.queue = [];
    this.nextId = 1;
  }
  setTimeout(callback, ms) {
    const id = this.nextId++;
    this.queue.push({ id, at: this.now + ms, ms, callback });
    return id;
  }
  clearTimeout(id) {
    this.queue = this.queue.filter((t) => t.id !== id);
  }
  get pending() {
    return this.queue.map((t) => t.ms);
  }
  async tick() {
    this.queue.sort((a, b) => a.at - b.at);
    const next = this.queue.shift();
    assert.ok(next, "no timer is pending");
    this.now = next.at;
    next.callback();
    await flush();
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

const status = (state, progress, stage = "generating_scene") => ({
  job_id: "j1", kind: "env", status: state, stage, progress, message: null, error: null,
});

function harness({ answers = [], openThrows = false } = {}) {
  const sources = [];
  const seen = [];
  const transports = [];
  const errors = [];
  const timers = new FakeTimers();
  const pending = [...answers];
  let polls = 0;
  const stop = followStatus({
    openStream: () => {
      if (openThrows) throw new Error("no EventSource");
      const source = new FakeEventSource();
      sources.push(source);
      return source;
    },
    fetchStatus: async () => {
      polls += 1;
      const answer = pending.shift();
      if (answer instanceof Error) throw answer;
      assert.ok(answer, "fetchStatus called more often than the test expected");
      return answer;
    },
    onStatus: (s) => seen.push(`${s.status}:${s.progress}`),
    onTransport: (t) => transports.push(t),
    onError: (message, fatal) => errors.push({ message, fatal }),
    pollIntervalMs: 1000,
    maxBackoffMs: 4000,
    timers,
  });
  return { sources, seen, transports, errors, timers, stop, polls: () => polls };
}

describe("followStatus", () => {
  let h;
  beforeEach(() => {
    h = null;
  });

  test("delivers stream events and closes the stream at the terminal status, without polling", async () => {
    h = harness();
    const [source] = h.sources;
    source.open();
    source.emit("status", status("running", 10));
    source.emit("status", status("running", 58));
    source.emit("status", status("completed", 100, "finalizing"));
    assert.deepEqual(h.seen, ["running:10", "running:58", "completed:100"]);
    assert.ok(source.closed, "the stream must be closed at the terminal status");
    assert.deepEqual(h.transports, ["connecting", "stream", "done"]);
    assert.equal(h.polls(), 0);
    assert.deepEqual(h.timers.pending, []);
    // The server ends the stream; EventSource would report an error and reconnect: nothing happens.
    source.fail();
    assert.equal(h.sources.length, 1);
    assert.equal(h.polls(), 0);
  });

  test("falls back to polling every second when the stream drops, until terminal", async () => {
    h = harness({ answers: [status("running", 40), status("running", 70), status("completed", 100)] });
    const [source] = h.sources;
    source.open();
    source.emit("status", status("running", 10));
    source.fail();
    assert.ok(source.closed, "the dropped stream must be closed (EventSource would reconnect)");
    await flush();
    assert.deepEqual(h.seen, ["running:10", "running:40"]);
    assert.deepEqual(h.timers.pending, [1000]);
    await h.timers.tick();
    assert.deepEqual(h.seen, ["running:10", "running:40", "running:70"]);
    await h.timers.tick();
    assert.deepEqual(h.seen, ["running:10", "running:40", "running:70", "completed:100"]);
    assert.deepEqual(h.transports, ["connecting", "stream", "polling", "done"]);
    assert.deepEqual(h.timers.pending, [], "polling must stop at a terminal status");
    assert.equal(h.polls(), 3);
    assert.equal(h.sources.length, 1, "the stream must not be reopened once polling");
    // Events from the closed stream are ignored.
    source.emit("status", status("running", 5));
    assert.equal(h.seen.length, 4);
  });

  test("a stream that never opens falls back to polling at once", async () => {
    h = harness({ answers: [status("completed", 100)] });
    h.sources[0].fail();
    await flush();
    assert.deepEqual(h.seen, ["completed:100"]);
    assert.deepEqual(h.transports, ["connecting", "polling", "done"]);
  });

  test("no EventSource at all: polls from the start", async () => {
    h = harness({ openThrows: true, answers: [status("queued", 0, null), status("failed", 30)] });
    await flush();
    await h.timers.tick();
    assert.deepEqual(h.seen, ["queued:0", "failed:30"]);
    assert.deepEqual(h.transports, ["polling", "done"]);
  });

  test("the server's stream timeout reopens the stream instead of polling", async () => {
    h = harness();
    const [first] = h.sources;
    first.open();
    first.emit("status", status("running", 20));
    first.emit("timeout", { job_id: "j1", reconnect: true });
    assert.ok(first.closed);
    assert.equal(h.sources.length, 2);
    const second = h.sources[1];
    second.open();
    second.emit("status", status("completed", 100));
    assert.deepEqual(h.seen, ["running:20", "completed:100"]);
    assert.equal(h.polls(), 0);
    assert.ok(second.closed);
  });

  test("polling failures are reported and retried with backoff; a 404 stops", async () => {
    const notFound = Object.assign(new Error("no job 'j1'"), { status: 404 });
    h = harness({
      answers: [new Error("network down"), new Error("network down"), status("running", 50), notFound],
    });
    h.sources[0].fail();
    await flush();
    assert.deepEqual(h.timers.pending, [1000]);
    await h.timers.tick();
    assert.deepEqual(h.timers.pending, [2000], "a second failure in a row waits twice as long");
    await h.timers.tick();
    assert.deepEqual(h.seen, ["running:50"]);
    assert.deepEqual(h.timers.pending, [1000], "an answer resets the interval to one second");
    await h.timers.tick();
    assert.deepEqual(h.errors, [
      { message: "network down", fatal: false },
      { message: "network down", fatal: false },
      { message: "no job 'j1'", fatal: true },
    ]);
    assert.deepEqual(h.timers.pending, []);
    assert.equal(h.transports.at(-1), "done");
  });

  test("a 401 while polling stops following: only a new API key (which reloads the page) can change it", async () => {
    const refused = Object.assign(new Error("This API needs an API key"), { status: 401 });
    h = harness({ answers: [refused] });
    h.sources[0].fail();
    await flush();
    assert.deepEqual(h.errors, [{ message: "This API needs an API key", fatal: true }]);
    assert.deepEqual(h.timers.pending, []);
    assert.equal(h.transports.at(-1), "done");
  });

  test("stop() closes the stream, cancels the next poll and ignores late answers", async () => {
    h = harness({ answers: [status("running", 40)] });
    h.sources[0].fail();
    await flush();
    assert.deepEqual(h.timers.pending, [1000]);
    h.stop();
    assert.deepEqual(h.timers.pending, []);
    h.stop();

    // A poll in flight when stop() is called delivers nothing.
    let release;
    const sources = [];
    const seen = [];
    const stop = followStatus({
      openStream: () => {
        const source = new FakeEventSource();
        sources.push(source);
        return source;
      },
      fetchStatus: () => new Promise((resolve) => (release = resolve)),
      onStatus: (s) => seen.push(s.status),
      timers: new FakeTimers(),
    });
    sources[0].fail();
    stop();
    release(status("completed", 100));
    await flush();
    assert.deepEqual(seen, []);
    assert.ok(sources[0].closed);
  });
});
