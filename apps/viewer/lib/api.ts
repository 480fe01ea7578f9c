/**
 * The MMF HTTP API as the viewer uses it: types mirroring shared/schemas/api.py and thin fetch
 * wrappers. URLs are relative (same origin: the API serves the viewer at /viewer/) unless
 * NEXT_PUBLIC_API_BASE_URL is set at build time (e.g. `next dev` on :3000 against the API on :8000).
 *
 * Every fetch sends the stored API key (lib/api-key.ts) as `X-API-Key`. What the browser loads by
 * itself cannot send it: the events stream (lib/fetch-event-source.ts), previews
 * (lib/useAuthorizedUrl.ts) and downloads (`api.signedUrl`) each work around that where they are used.
 */

import { authHeaders, reportRefusedKey } from "./api-key";

export const API_BASE = (process.env.NEXT_PUBLIC_API_BASE_URL ?? "").replace(/\/+$/, "");

export type JobStatusName = "queued" | "running" | "completed" | "failed" | "canceled";
export const TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "canceled"]);

export interface JobError {
  type: string;
  code: string;
  message: string;
  stage: string | null;
}

export interface JobStatus {
  job_id: string;
  kind: string;
  status: JobStatusName;
  stage: string | null;
  progress: number;
  message: string | null;
  error: JobError | null;
}

export interface Artifact {
  key: string;
  bytes: number;
  sha256: string;
  content_type: string;
}

export interface JobPublic extends JobStatus {
  request: Record<string, unknown>;
  providers: Record<string, string>;
  artifacts: Record<string, Artifact>;
  timings: Record<string, number>;
  notes: string[];
  /** Facts about the result (counts, bounds, a splat job's held-out scores); the manifest's `details`. */
  details?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export interface JobPage {
  items: JobPublic[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

export interface ProviderChoice {
  name: string;
  version: string;
  queue: string;
  available: boolean;
  unavailable_reason: string | null;
  options_schema: JsonSchema;
}

export interface StageProviders {
  default: string;
  choices: ProviderChoice[];
}

export interface ProvidersInfo {
  kinds: Record<string, Record<string, StageProviders>>;
  output_formats: string[];
  quality_tiers: string[];
  max_prompt_chars: number;
}

export interface JobCreate {
  kind: string;
  prompt?: string;
  images?: string[];
  video?: string;
  providers?: Record<string, string>;
  options?: Record<string, Record<string, unknown>>;
  output_format?: string;
  quality_tier?: string;
  seed?: number;
}

export interface JobCreated {
  job_id: string;
  status: JobStatusName;
  status_url: string;
}

export interface UploadCreated {
  upload_id: string;
  key: string;
  bytes: number;
  content_type: string;
}

export interface SignedArtifact extends Artifact {
  url: string;
}

export interface PresignedUrls {
  job_id: string;
  expires_in: number;
  expires_at: number;
  artifacts: Record<string, SignedArtifact>;
}

export interface FieldProblem {
  path: string;
  message: string;
}

/** An error answer of the API (`{code, message, detail}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Field paths and messages from a validation `detail` (`[{loc, msg}]`), if any. */
  get problems(): FieldProblem[] {
    if (!Array.isArray(this.detail)) return [];
    return this.detail
      .filter((item): item is { loc?: unknown[]; msg?: unknown } => typeof item === "object" && item !== null)
      .map((item) => ({
        path: (Array.isArray(item.loc) ? item.loc : []).filter((part) => part !== "body").join("."),
        message: String(item.msg ?? ""),
      }));
  }
}

export function apiUrl(path: string): string {
  return `${API_BASE}${path}`;
}

export function downloadUrl(jobId: string, artifact: string): string {
  const name = artifact.split("/").map(encodeURIComponent).join("/");
  return apiUrl(`/v1/generations/${encodeURIComponent(jobId)}/download/${name}`);
}

export function eventsUrl(jobId: string): string {
  return apiUrl(`/v1/generations/${encodeURIComponent(jobId)}/events`);
}

const REFUSED_KEY_MESSAGES: Record<string, string> = {
  missing_api_key: "This API needs an API key: enter yours with the “API key” button at the top of the page.",
  invalid_api_key: "The API refused the API key: enter a valid one with the “API key” button at the top of the page.",
};

/** The error an unsuccessful answer carries; a 401 also tells the key control that a key is needed. */
async function errorOf(response: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; detail?: unknown } = {};
  try {
    body = (await response.json()) ?? {};
  } catch {
    body = {};
  }
  const code = body.code ?? `http_${response.status}`;
  let message = body.message ?? `The API answered ${response.status} ${response.statusText}.`;
  if (response.status === 401) {
    reportRefusedKey(code === "invalid_api_key" ? "invalid" : "missing");
    message = REFUSED_KEY_MESSAGES[code] ?? REFUSED_KEY_MESSAGES.missing_api_key;
  }
  return new ApiError(response.status, code, message, body.detail ?? null);
}

/** fetch() with the stored API key; a network failure or an error answer is thrown as an ApiError. */
export async function fetchApi(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(authHeaders())) headers.set(name, value);
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store", ...init, headers });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(0, "network_error", `The API did not answer (${reason}).`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const text = await (await fetchApi(apiUrl(path), init)).text();
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    return null as T;
  }
}

/**
 * A signed URL of the local object store (`/v1/files/…`) rebased onto the API this viewer talks to.
 * The API signs it with PUBLIC_BASE_URL, which need not be how this browser reaches the API (a
 * proxy, another host name); the signature covers the key and expiry only, not the host. Presigned
 * S3 URLs are returned unchanged.
 */
export function signedUrlOnThisApi(url: string): string {
  const parsed = new URL(url, window.location.href);
  const at = parsed.pathname.indexOf("/v1/files/");
  return at < 0 ? parsed.href : apiUrl(parsed.pathname.slice(at) + parsed.search);
}

function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

export const api = {
  providers: () => request<ProvidersInfo>("/v1/providers"),
  listJobs: (limit: number, offset = 0) => request<JobPage>(`/v1/generations?limit=${limit}&offset=${offset}`),
  getJob: (jobId: string) => request<JobPublic>(`/v1/generations/${encodeURIComponent(jobId)}`),
  getStatus: (jobId: string, signal?: AbortSignal) =>
    request<JobStatus>(`/v1/generations/${encodeURIComponent(jobId)}/status`, { signal }),
  cancel: (jobId: string) =>
    request<JobStatus>(`/v1/generations/${encodeURIComponent(jobId)}/cancel`, { method: "POST" }),
  create: (body: JobCreate, idempotencyKey: string = newIdempotencyKey()) =>
    request<JobCreated>("/v1/generations", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
      body: JSON.stringify(body),
    }),
  upload: (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request<UploadCreated>("/v1/uploads", { method: "POST", body: form });
  },
  presigned: (jobId: string) => request<PresignedUrls>(`/v1/generations/${encodeURIComponent(jobId)}/presigned`),
  /** A signed URL of one artifact, usable without a key (a link, a download), valid for SIGNED_URL_TTL_S. */
  signedUrl: async (jobId: string, artifact: string): Promise<string> => {
    const signed = (await api.presigned(jobId)).artifacts[artifact];
    if (!signed) throw new ApiError(404, "artifact_not_found", `The job has no ${artifact}.`);
    return signedUrlOnThisApi(signed.url);
  },
  artifactText: async (jobId: string, artifact: string): Promise<string> =>
    (await fetchApi(downloadUrl(jobId, artifact))).text(),
};
