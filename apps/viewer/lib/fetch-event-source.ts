/**
 * Server-Sent Events read through fetch(), for streams that need request headers: the browser's
 * EventSource cannot send `X-API-Key`, so with an API key the viewer follows a job through this.
 *
 * It behaves like the part of EventSource that `followStatus` (live-status.ts) uses, with one
 * difference: it never reconnects. A refused request (401, 404, …), a network failure or the end of
 * the stream calls `onerror` once and stops; `followStatus` then polls, as it does when an
 * EventSource drops. `close()` stops it quietly.
 *
 * Lines end with "\n" (a trailing "\r" is dropped), as the API writes them; `id:` and `retry:` are
 * ignored because nothing reconnects. Import-free at run time so that node's test runner can load it
 * (tests/fetch-event-source.test.mjs).
 */

import type { EventSourceLike, MessageLike } from "./live-status";

type Listener = (event: MessageLike) => void;

export function openFetchEventSource(
  url: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): EventSourceLike {
  const controller = new AbortController();
  const listeners = new Map<string, Listener[]>();
  let closed = false;

  const source: EventSourceLike = {
    onerror: null,
    onopen: null,
    addEventListener(type: string, listener: Listener) {
      listeners.set(type, [...(listeners.get(type) ?? []), listener]);
    },
    close() {
      closed = true;
      controller.abort();
    },
  };

  const fail = () => {
    if (closed) return;
    closed = true;
    controller.abort();
    source.onerror?.(undefined as never);
  };

  const dispatch = (type: string, data: string) => {
    for (const listener of listeners.get(type) ?? []) {
      if (closed) return;
      listener({ data });
    }
  };

  const read = async () => {
    const response = await fetchImpl(url, {
      headers: { Accept: "text/event-stream", ...headers },
      cache: "no-store",
      signal: controller.signal,
    });
    if (!response.ok || !response.body) return fail();
    if (closed) return;
    source.onopen?.(undefined as never);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let eventType = "message";
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || closed) break;
      buffer += value;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const rawLine of lines) {
        if (closed) return;
        const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
        if (line === "") {
          if (data.length > 0) dispatch(eventType, data.join("\n"));
          eventType = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") eventType = fieldValue;
        else if (field === "data") data.push(fieldValue);
      }
    }
    fail();
  };

  read().catch(fail);
  return source;
}
