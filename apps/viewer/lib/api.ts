/**
 * The MMF HTTP API as the viewer uses it: types mirroring shared/schemas/api.py and thin fetch
 * wrappers. URLs are relative (same origin: the API serves the viewer at /viewer/) unless
 * NEXT_PUBLIC_API_BASE_URL is set at build time (e.g. `next dev` on :3000 against the API on :8000).
 */

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

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { cache: "no-store", ...init });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(0, "network_error", `The API did not answer (${reason}).`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = (body ?? {}) as { code?: string; message?: string; detail?: unknown };
    throw new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? `The API answered ${response.status} ${response.statusText}.`,
      err.detail ?? null,
    );
  }
  return body as T;
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
  artifactText: async (jobId: string, artifact: string): Promise<string> => {
    let response: Response;
    try {
      response = await fetch(downloadUrl(jobId, artifact), { cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, "network_error", `The API did not answer (${String(error)}).`);
    }
    if (!response.ok) throw new ApiError(response.status, "download_failed", `${artifact}: HTTP ${response.status}`);
    return response.text();
  },
};
