"use client";

import dynamic from "next/dynamic";
import Link from "next/link";
import { type MouseEvent, useEffect, useMemo, useState } from "react";

import { api, ApiError, downloadUrl, type JobPublic, type JobStatus, TERMINAL } from "@/lib/api";
import { storedApiKey } from "@/lib/api-key";
import { formatAge, formatBytes, formatDuration, humanize, kindLabel, requestSummary } from "@/lib/format";
import { useAuthorizedUrl } from "@/lib/useAuthorizedUrl";
import { useLiveStatus } from "@/lib/useLiveStatus";

import styles from "./JobView.module.css";
import { ModelPreview } from "./ModelPreview";
import { ProgressBar, StatusBadge } from "./Status";

// The splat viewer (and its share of three.js) is loaded only for jobs that have splats.
const SplatPreview = dynamic(() => import("./SplatPreview").then((m) => m.SplatPreview), {
  ssr: false,
  loading: () => <p className="muted">Loading the splat viewer…</p>,
});

const MAIN_FIRST = ["scene.glb", "model.glb", "scene.splat", "scene.spz", "manifest.json"];

/** The newer of two views of a job's status: a terminal status wins (it is never overwritten). */
function newest(a: JobStatus | null, b: JobStatus | null): JobStatus | null {
  if (a && TERMINAL.has(a.status)) return a;
  if (b && TERMINAL.has(b.status)) return b;
  return a ?? b;
}

function stageLabel(status: JobStatus): string {
  const stage = humanize(status.stage);
  if (status.status === "completed") return "Completed";
  if (status.status === "canceled") return "Canceled";
  if (status.status === "failed") return stage ? `Failed during: ${stage.toLowerCase()}` : "Failed";
  if (status.status === "queued") return stage || "Waiting for a worker";
  return stage || "Starting";
}

function basename(name: string): string {
  return name.split("/").pop() ?? name;
}

function glbArtifact(names: string[]): string | undefined {
  return ["scene.glb", "model.glb"].find((n) => names.includes(n)) ?? names.find((n) => n.endsWith(".glb"));
}

/** A picture the job wrote; an <img> cannot send the API key, so it shows a blob: URL when there is one. */
function ArtifactImage({ src, alt, testId }: { src: string; alt: string; testId: string }) {
  const { url, problem } = useAuthorizedUrl(src);
  if (problem) return <p className="muted">Could not load the {alt}: {problem}</p>;
  return url ? <img className={styles.thumbnail} src={url} alt={alt} data-testid={testId} /> : null;
}

interface Quality {
  mask_method?: string;
  mask_coverage?: number;
  front_silhouette_iou?: number;
  watertight?: boolean;
  faces?: number;
}

/** The subject masks an image_to_3d job cut its photos with, and how well the model's outline matches them
 * (a text_to_3d job masks its own generated views too, which tells its user nothing, so they are not shown). */
function SubjectMasks({ jobId, masks, quality }: { jobId: string; masks: string[]; quality?: Quality }) {
  return (
    <section className="card" data-testid="subject-masks">
      <h3>Subject {masks.length > 1 ? "masks" : "mask"}</h3>
      {masks.map((name) => (
        <ArtifactImage key={name} src={downloadUrl(jobId, name)} alt={`subject mask ${basename(name)}`}
          testId={`mask-${basename(name)}`} />
      ))}
      {quality?.front_silhouette_iou !== undefined && (
        <p className="muted">
          {quality.mask_method} mask covering {Math.round((quality.mask_coverage ?? 0) * 100)}% of the photo; the
          model&apos;s front outline matches it at IoU {quality.front_silhouette_iou.toFixed(3)}
          {quality.watertight ? ", closed" : ", not closed"}, {quality.faces?.toLocaleString()} faces.
        </p>
      )}
    </section>
  );
}

const HELDOUT_FRAME = "evaluation/heldout_frame.jpg";
const HELDOUT_RENDER = "evaluation/heldout_render.jpg";

function decibels(value: unknown): string {
  return typeof value === "number" ? `${value.toFixed(1)} dB` : "n/a";
}

/** A splat job's held-out check: a frame the trainer never saw beside the render from its camera, and the scores. */
function HeldOutCheck({ jobId, details }: { jobId: string; details: Record<string, unknown> }) {
  const reasons = Array.isArray(details.quality_reasons) ? details.quality_reasons.map(String) : [];
  const ssim = typeof details.heldout_ssim === "number" ? details.heldout_ssim.toFixed(3) : "n/a";
  return (
    <section className="card" data-testid="heldout-check">
      <h3>Held-out check</h3>
      <div className={styles.pair}>
        <figure>
          <ArtifactImage src={downloadUrl(jobId, HELDOUT_FRAME)} alt="held-out frame" testId="heldout-frame" />
          <figcaption className="muted">Frame (not trained on)</figcaption>
        </figure>
        <figure>
          <ArtifactImage src={downloadUrl(jobId, HELDOUT_RENDER)} alt="render of the splats" testId="heldout-render" />
          <figcaption className="muted">Render from its camera</figcaption>
        </figure>
      </div>
      <p data-testid="heldout-psnr">
        Held-out PSNR <strong>{decibels(details.heldout_psnr)}</strong>, SSIM {ssim}; training frames{" "}
        {decibels(details.train_psnr)}.
      </p>
      {reasons.length > 0 && (
        <ul className={styles.notes} data-testid="quality-reasons">
          {reasons.map((reason) => (
            <li key={reason}>Poor result: {reason}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Start a download of `url` as `filename`, as a click on a link would. */
function saveAs(url: string, filename: string) {
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
}

export function JobView({ jobId }: { jobId: string }) {
  const live = useLiveStatus(jobId);
  const [job, setJob] = useState<JobPublic | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [canceled, setCanceled] = useState<JobStatus | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [canceling, setCanceling] = useState(false);
  const [manifest, setManifest] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);

  const status = newest(newest(live.status, canceled), job);
  const phaseKey = `${status?.status ?? ""}|${status?.stage ?? ""}`;

  // The full record (request, artifacts, timings) again whenever the status or the stage changes.
  useEffect(() => {
    let current = true;
    api
      .getJob(jobId)
      .then((loaded) => current && setJob(loaded))
      .catch((error: ApiError) => current && setLoadError(error));
    return () => {
      current = false;
    };
  }, [jobId, phaseKey]);

  const artifactNames = useMemo(() => {
    const names = Object.keys(job?.artifacts ?? {});
    const rank = (name: string) => (MAIN_FIRST.includes(name) ? MAIN_FIRST.indexOf(name) : MAIN_FIRST.length);
    return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }, [job]);
  const hasManifest = artifactNames.includes("manifest.json");

  useEffect(() => {
    if (!hasManifest) return;
    let current = true;
    api
      .artifactText(jobId, "manifest.json")
      .then((text) => {
        if (!current) return;
        try {
          setManifest(JSON.stringify(JSON.parse(text), null, 2));
        } catch {
          setManifest(text);
        }
      })
      .catch((error: ApiError) => current && setManifest(`Could not load the manifest: ${error.message}`));
    return () => {
      current = false;
    };
  }, [jobId, hasManifest]);

  const cancel = async () => {
    setCanceling(true);
    setCancelError(null);
    try {
      setCanceled(await api.cancel(jobId));
    } catch (error) {
      setCancelError(error instanceof ApiError ? error.message : String(error));
    } finally {
      setCanceling(false);
    }
  };

  /**
   * With an API key a plain link would be refused (a navigation cannot send `X-API-Key`): the click
   * asks for a fresh signed URL instead (it carries its own signature) and downloads that, streamed
   * by the browser rather than held in the page. Without a key the link is followed as it is.
   */
  const download = async (event: MouseEvent<HTMLAnchorElement>, name: string) => {
    if (!storedApiKey()) return;
    event.preventDefault();
    setDownloadError(null);
    try {
      saveAs(await api.signedUrl(jobId, name), basename(name));
    } catch (error) {
      setDownloadError(`Could not download ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  if (loadError && !job) {
    return (
      <div className={styles.page}>
        <Link href="/">← All jobs</Link>
        <div className={`card ${styles.failure}`} role="alert" data-testid="load-error">
          <h2>{loadError.status === 404 ? "No such job" : "Could not load the job"}</h2>
          <p>{loadError.message}</p>
        </div>
      </div>
    );
  }
  if (!status) {
    return (
      <div className={styles.page}>
        <Link href="/">← All jobs</Link>
        <p className="muted">Loading job {jobId}…</p>
      </div>
    );
  }

  const active = !TERMINAL.has(status.status);
  const glb = glbArtifact(artifactNames);
  // The compressed .spz (a tenth of the PLY) when the job has one; jobs from before it, scene.splat.
  const splat = ["scene.spz", "scene.splat"].find((name) => artifactNames.includes(name));
  const thumbnail = artifactNames.find((name) => /^thumbnail\.(png|jpe?g|webp)$/.test(name));
  const otherModels = artifactNames.filter((name) => /^model\.(obj\.zip|ply|stl|fbx|usdz)$/.test(name));
  const masks = artifactNames.filter((name) => /^views\/mask_\d+\.png$/.test(name));
  const summary = job ? requestSummary(job.request) : "";
  const transportLabel =
    live.transport === "stream" ? "live" : live.transport === "polling" ? "polling every second" : live.transport;

  return (
    <div className={styles.page} data-testid="job-view" data-job-id={jobId}>
      <Link href="/">← All jobs</Link>

      <header className={styles.header}>
        <div>
          <div className={styles.titleRow}>
            <h1>{kindLabel(status.kind)}</h1>
            <StatusBadge status={status.status} />
          </div>
          <p className={styles.meta}>
            <span className="mono">{jobId}</span>
            {job && (
              <>
                {" · "}
                <span title={job.created_at}>created {formatAge(job.created_at)}</span>
              </>
            )}
          </p>
          {summary && (
            <p className={styles.prompt}>{typeof job?.request.prompt === "string" ? `“${summary}”` : `From ${summary}`}</p>
          )}
        </div>
        {active && (
          <button
            type="button"
            className="button danger"
            onClick={() => void cancel()}
            disabled={canceling}
            data-testid="cancel"
          >
            {canceling ? "Canceling…" : "Cancel job"}
          </button>
        )}
      </header>
      {cancelError && (
        <p className={styles.inlineError} role="alert">
          {cancelError}
        </p>
      )}

      <section className={`card ${styles.progress}`} data-testid="job-progress">
        <div className={styles.progressHead}>
          <span className={styles.stage} data-testid="job-stage">
            {stageLabel(status)}
          </span>
          <span className={styles.percent} data-testid="job-percent">
            {status.progress}%
          </span>
        </div>
        <ProgressBar progress={status.progress} status={status.status} />
        <div className={styles.progressFoot}>
          <span className="muted">{status.message}</span>
          <span
            className={`${styles.transport} ${live.transport === "stream" ? styles.transportLive : ""}`}
            data-testid="transport"
            data-transport={live.transport}
          >
            {transportLabel}
          </span>
        </div>
        {live.problem && active && <p className={styles.inlineError}>Lost contact with the API: {live.problem}</p>}
      </section>

      {status.status === "failed" && (
        <section className={`card ${styles.failure}`} role="alert" data-testid="job-error">
          <h2>The job failed{status.error?.stage ? ` while ${humanize(status.error.stage).toLowerCase()}` : ""}</h2>
          <p className={styles.failureMessage}>{status.error?.message ?? status.message ?? "No reason was given."}</p>
          {status.error && (
            <p className={styles.failureMeta}>
              <code>{status.error.code}</code> · {status.error.type}
            </p>
          )}
        </section>
      )}
      {status.status === "canceled" && (
        <section className={`card ${styles.notice}`} data-testid="job-canceled">
          This job was canceled{status.message ? `: ${status.message}` : "."}
        </section>
      )}

      <div className={styles.grid}>
        <div className={styles.previewColumn}>
          {splat && (
            <SplatPreview src={downloadUrl(jobId, splat)}
              reportSrc={artifactNames.includes("splat.json") ? downloadUrl(jobId, "splat.json") : undefined} />
          )}
          {glb && <ModelPreview src={downloadUrl(jobId, glb)} alt={summary || `${kindLabel(status.kind)} result`}
            scene={status.kind === "env"} />}
          {!splat && !glb && (
            <div className={styles.placeholder}>
              {active
                ? "The 3D preview appears here when the job has finished."
                : otherModels.length > 0
                  ? `The browser preview shows GLB and .splat results; download ${otherModels.join(", ")} below.`
                  : "This job has no 3D result to preview."}
            </div>
          )}
        </div>

        <aside className={styles.side}>
          {masks.length > 0 && status.kind === "image_to_3d" && (
            <SubjectMasks jobId={jobId} masks={masks} quality={job?.details?.quality as Quality | undefined} />
          )}
          {job?.details && artifactNames.includes(HELDOUT_RENDER) && artifactNames.includes(HELDOUT_FRAME) && (
            <HeldOutCheck jobId={jobId} details={job.details} />
          )}
          {thumbnail && (
            <section className="card">
              <h3>Thumbnail</h3>
              <ArtifactImage src={downloadUrl(jobId, thumbnail)} alt="thumbnail" testId="thumbnail" />
            </section>
          )}
          <section className="card">
            <h3>Downloads</h3>
            {artifactNames.length === 0 ? (
              <p className="muted">{active ? "Files appear here as the job writes them." : "No files."}</p>
            ) : (
              <ul className={styles.downloads}>
                {artifactNames.map((name) => (
                  <li key={name}>
                    <a
                      className="button"
                      href={downloadUrl(jobId, name)}
                      download={basename(name)}
                      onClick={(event) => void download(event, name)}
                      data-testid={`download-${name}`}
                    >
                      <span aria-hidden>⬇</span> {name}
                    </a>
                    <span className="muted">{formatBytes(job?.artifacts[name]?.bytes ?? 0)}</span>
                  </li>
                ))}
              </ul>
            )}
            {downloadError && (
              <p className={styles.inlineError} role="alert" data-testid="download-error">
                {downloadError}
              </p>
            )}
          </section>
          {job && (
            <section className="card">
              <h3>Details</h3>
              <dl className={styles.details}>
                {Object.entries(job.providers).map(([stage, name]) => (
                  <div key={stage}>
                    <dt>{humanize(stage)} provider</dt>
                    <dd>{name}</dd>
                  </div>
                ))}
                {Object.entries(job.timings).map(([stage, seconds]) => (
                  <div key={`t-${stage}`}>
                    <dt>{humanize(stage)}</dt>
                    <dd>{formatDuration(seconds)}</dd>
                  </div>
                ))}
                {typeof job.request.seed === "number" && (
                  <div>
                    <dt>Seed</dt>
                    <dd>{job.request.seed}</dd>
                  </div>
                )}
              </dl>
              {job.notes.length > 0 && (
                <ul className={styles.notes}>
                  {job.notes.map((note, index) => (
                    <li key={index}>{note}</li>
                  ))}
                </ul>
              )}
            </section>
          )}
        </aside>
      </div>

      {manifest !== null && (
        <section className="card">
          <details open>
            <summary className={styles.summary}>manifest.json</summary>
            <pre className={styles.manifest} data-testid="manifest">
              {manifest}
            </pre>
          </details>
        </section>
      )}
    </div>
  );
}
