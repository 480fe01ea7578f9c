/**
 * Follow one job's status live: Server-Sent Events first, polling when the stream drops.
 *
 * Framework-free and import-free on purpose: React wraps it in `useLiveStatus`, and
 * tests/live-status.test.mjs drives it with a fake EventSource, a fake fetch and fake timers.
 *
 * - `status` events carry `{job_id, kind, status, stage, progress, message, error}`; the stream
 *   ends after the terminal one, so the source is closed as soon as a terminal status arrives
 *   (otherwise EventSource would reconnect to a finished stream).
 * - A `timeout` event (the server's stream lifetime ran out) reopens the stream.
 * - Any error before a terminal status closes the stream and polls `fetchStatus` every
 *   `pollIntervalMs` until the job is terminal. Polls are sequential (the next one is scheduled
 *   after the previous answer), so answers cannot arrive out of order.
 * - A 404 (the job does not exist) or a 401 (no API key, or a refused one: saving a key reloads the
 *   page) while polling ends following with `onError`: retrying could not change the answer.
 */

export interface LiveStatus {
  job_id: string;
  kind: string;
  status: string;
  stage: string | null;
  progress: number;
  message: string | null;
  error: { type: string; code: string; message: string; stage: string | null } | null;
}

export type Transport = "connecting" | "stream" | "polling" | "done";

export interface MessageLike {
  data: string;
}

/** The part of `EventSource` used here. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageLike) => void): void;
  onerror: ((event: never) => void) | null;
  onopen: ((event: never) => void) | null;
  close(): void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FollowOptions {
  /** Opens the events stream; may throw (no EventSource here), which means: poll. */
  openStream: () => EventSourceLike;
  fetchStatus: () => Promise<LiveStatus>;
  onStatus: (status: LiveStatus) => void;
  onTransport?: (transport: Transport) => void;
  /** A polling failure; `fatal` when following has stopped because of it. */
  onError?: (message: string, fatal: boolean) => void;
  pollIntervalMs?: number;
  /** Longest wait between polls after repeated failures. */
  maxBackoffMs?: number;
  timers?: Timers;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "canceled"]);

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Start following; returns `stop()` (idempotent), which closes the stream and cancels polling. */
export function followStatus(options: FollowOptions): () => void {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const timers = options.timers ?? defaultTimers;
  let stream: EventSourceLike | null = null;
  let pollTimer: unknown = null;
  let stopped = false;
  let polling = false;
  let failures = 0;
  let transport: Transport | null = null;

  const setTransport = (next: Transport) => {
    if (transport !== next) {
      transport = next;
      options.onTransport?.(next);
    }
  };

  const closeStream = () => {
    if (stream) {
      stream.onerror = null;
      stream.onopen = null;
      stream.close();
      stream = null;
    }
  };

  const finish = () => {
    stopped = true;
    closeStream();
    if (pollTimer !== null) timers.clearTimeout(pollTimer);
    pollTimer = null;
    setTransport("done");
  };

  /** Deliver a status; returns true when it was terminal (and following has ended). */
  const deliver = (status: LiveStatus): boolean => {
    if (stopped) return true;
    options.onStatus(status);
    if (TERMINAL_STATUSES.has(status.status)) {
      finish();
      return true;
    }
    return false;
  };

  const schedulePoll = (delayMs: number) => {
    if (stopped) return;
    pollTimer = timers.setTimeout(() => {
      pollTimer = null;
      void pollOnce();
    }, delayMs);
  };

  const pollOnce = async () => {
    if (stopped) return;
    try {
      const status = await options.fetchStatus();
      failures = 0;
      if (deliver(status)) return;
      schedulePoll(pollIntervalMs);
    } catch (error) {
      if (stopped) return;
      failures += 1;
      const httpStatus = (error as { status?: number } | null)?.status;
      const message = error instanceof Error ? error.message : String(error);
      if (httpStatus === 404 || httpStatus === 401) {
        options.onError?.(message, true);
        finish();
        return;
      }
      options.onError?.(message, false);
      schedulePoll(Math.min(maxBackoffMs, pollIntervalMs * 2 ** Math.min(failures - 1, 10)));
    }
  };

  const startPolling = () => {
    if (stopped || polling) return;
    polling = true;
    closeStream();
    setTransport("polling");
    void pollOnce();
  };

  const openStream = () => {
    if (stopped) return;
    let source: EventSourceLike;
    try {
      source = options.openStream();
    } catch {
      startPolling();
      return;
    }
    stream = source;
    setTransport("connecting");
    source.onopen = () => {
      if (stream === source) setTransport("stream");
    };
    source.addEventListener("status", (event) => {
      if (stream !== source) return;
      let status: LiveStatus;
      try {
        status = JSON.parse(event.data) as LiveStatus;
      } catch {
        startPolling();
        return;
      }
      setTransport("stream");
      deliver(status);
    });
    source.addEventListener("timeout", () => {
      if (stream !== source) return;
      closeStream();
      openStream();
    });
    source.onerror = () => {
      if (stream === source) startPolling();
    };
  };

  openStream();
  return () => {
    if (!stopped) {
      stopped = true;
      closeStream();
      if (pollTimer !== null) timers.clearTimeout(pollTimer);
      pollTimer = null;
    }
  };
}
