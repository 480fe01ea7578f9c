"use client";

import { useEffect, useState } from "react";

import { api, eventsUrl, type JobStatus } from "./api";
import { authHeaders } from "./api-key";
import { openFetchEventSource } from "./fetch-event-source";
import { followStatus, type LiveStatus, type Transport } from "./live-status";

export interface LiveState {
  status: JobStatus | null;
  transport: Transport;
  /** The last polling failure, cleared by the next answer. */
  problem: string | null;
}

/**
 * A job's status, live: SSE first, polling `/status` every second when the stream drops. With an API
 * key the stream is read through fetch (EventSource cannot send `X-API-Key`).
 */
export function useLiveStatus(jobId: string | null): LiveState {
  const [state, setState] = useState<LiveState>({ status: null, transport: "connecting", problem: null });

  useEffect(() => {
    if (!jobId) return;
    setState({ status: null, transport: "connecting", problem: null });
    return followStatus({
      openStream: () => {
        const headers = authHeaders();
        if (Object.keys(headers).length > 0) return openFetchEventSource(eventsUrl(jobId), headers);
        if (typeof EventSource === "undefined") throw new Error("no EventSource");
        return new EventSource(eventsUrl(jobId));
      },
      fetchStatus: () => api.getStatus(jobId) as Promise<LiveStatus>,
      onStatus: (status) => setState((s) => ({ ...s, status: status as JobStatus, problem: null })),
      onTransport: (transport) => setState((s) => ({ ...s, transport })),
      onError: (message) => setState((s) => ({ ...s, problem: message })),
      pollIntervalMs: 1000,
    });
  }, [jobId]);

  return state;
}
