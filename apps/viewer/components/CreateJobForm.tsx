"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useMemo, useState } from "react";

import { api, ApiError, type JobCreate, type ProvidersInfo } from "@/lib/api";
import { humanize, kindLabel } from "@/lib/format";

import styles from "./CreateJobForm.module.css";
import { type OptionValues, OptionsFields, optionsPayload } from "./OptionsFields";
import { type BoxText, EMPTY_BOX, SubjectBoxes, segmentPayload } from "./SubjectBoxes";

/** What a job kind takes as input; kinds the server lists that are not here take a prompt. */
const INPUT_BY_KIND: Record<string, "prompt" | "images" | "video"> = {
  env: "prompt",
  text_to_3d: "prompt",
  image_to_3d: "images",
  splat: "video",
};

/** Kinds whose main artifact is a mesh in the requested `output_format`. */
const FORMAT_KINDS = new Set(["text_to_3d", "image_to_3d"]);

const MAX_IMAGES = 8;

const PROMPT_PLACEHOLDER: Record<string, string> = {
  env: "a misty cyberpunk alley with neon signs at night",
  text_to_3d: "a red vintage car, studio lighting",
};

function defaultProviders(info: ProvidersInfo, kind: string): Record<string, string> {
  return Object.fromEntries(Object.entries(info.kinds[kind] ?? {}).map(([stage, s]) => [stage, s.default]));
}

export function CreateJobForm() {
  const router = useRouter();
  const [info, setInfo] = useState<ProvidersInfo | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [kind, setKind] = useState("");
  const [prompt, setPrompt] = useState("");
  const [images, setImages] = useState<File[]>([]);
  const [boxes, setBoxes] = useState<BoxText[]>([]);
  const [video, setVideo] = useState<File | null>(null);
  const [providers, setProviders] = useState<Record<string, string>>({});
  const [options, setOptions] = useState<Record<string, OptionValues>>({});
  const [outputFormat, setOutputFormat] = useState("glb");
  const [qualityTier, setQualityTier] = useState("standard");
  const [seed, setSeed] = useState("0");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let live = true;
    api
      .providers()
      .then((loaded) => {
        if (!live) return;
        setInfo(loaded);
        const first = Object.keys(loaded.kinds)[0] ?? "";
        setKind(first);
        setProviders(defaultProviders(loaded, first));
        setOutputFormat(loaded.output_formats[0] ?? "glb");
        setQualityTier(loaded.quality_tiers[0] ?? "standard");
      })
      .catch((err: ApiError) => live && setLoadError(err));
    return () => {
      live = false;
    };
  }, []);

  const stages = useMemo(() => (info && kind ? Object.entries(info.kinds[kind] ?? {}) : []), [info, kind]);
  const input = INPUT_BY_KIND[kind] ?? "prompt";

  const chooseKind = (next: string) => {
    if (!info) return;
    setKind(next);
    setProviders(defaultProviders(info, next));
    setOptions({});
    setError(null);
  };

  const chooseProvider = (stage: string, name: string) => {
    setProviders((current) => ({ ...current, [stage]: name }));
    setOptions((current) => ({ ...current, [stage]: {} }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!info || phase) return;
    setError(null);
    try {
      const body: JobCreate = { kind, providers, quality_tier: qualityTier, seed: Number(seed) || 0 };
      if (FORMAT_KINDS.has(kind)) body.output_format = outputFormat;
      const chosenOptions: Record<string, Record<string, unknown>> = {};
      for (const [stage, s] of stages) {
        const schema = s.choices.find((choice) => choice.name === providers[stage])?.options_schema;
        const payload = optionsPayload(schema, options[stage] ?? {});
        if (Object.keys(payload).length > 0) chosenOptions[stage] = payload;
      }
      if (input === "images") {
        let segment;
        try {
          segment = segmentPayload(boxes);
        } catch (invalid) {
          throw new ApiError(0, "invalid_box", (invalid as Error).message);
        }
        if (segment) chosenOptions.segment = segment;
      }
      if (Object.keys(chosenOptions).length > 0) body.options = chosenOptions;
      if (input === "prompt") {
        body.prompt = prompt.trim();
      } else if (input === "images") {
        if (images.length === 0) throw new ApiError(0, "missing_input", "Choose at least one image.");
        const ids: string[] = [];
        for (const [index, file] of images.entries()) {
          setPhase(`Uploading image ${index + 1} of ${images.length}…`);
          ids.push((await api.upload(file)).upload_id);
        }
        body.images = ids;
      } else {
        if (!video) throw new ApiError(0, "missing_input", "Choose a video.");
        setPhase("Uploading video…");
        body.video = (await api.upload(video)).upload_id;
      }
      setPhase("Submitting…");
      const created = await api.create(body);
      router.push(`/job/?id=${encodeURIComponent(created.job_id)}`);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "error", String(err)));
      setPhase(null);
    }
  };

  if (loadError) {
    return (
      <section className={`card ${styles.form}`}>
        <h2>New job</h2>
        <div className={styles.error} role="alert">
          Could not load the job kinds from the API: {loadError.message}
        </div>
      </section>
    );
  }
  if (!info) {
    return (
      <section className={`card ${styles.form}`} aria-busy>
        <h2>New job</h2>
        <p className="muted">Loading job kinds…</p>
      </section>
    );
  }

  const kinds = Object.keys(info.kinds);
  return (
    <form className={`card ${styles.form}`} onSubmit={submit} data-testid="create-form">
      <h2>New job</h2>

      <div className={styles.kinds} role="radiogroup" aria-label="Job kind">
        {kinds.map((name) => (
          <button
            key={name}
            type="button"
            role="radio"
            aria-checked={name === kind}
            className={`${styles.kind} ${name === kind ? styles.kindActive : ""}`}
            onClick={() => chooseKind(name)}
            data-testid={`kind-${name}`}
          >
            {kindLabel(name)}
          </button>
        ))}
      </div>

      {input === "prompt" && (
        <div className={styles.field}>
          <label htmlFor="prompt">Prompt</label>
          <textarea
            id="prompt"
            data-testid="prompt"
            required
            maxLength={info.max_prompt_chars}
            placeholder={PROMPT_PLACEHOLDER[kind] ?? "describe what to make"}
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
          />
          <span className={styles.hint}>
            {prompt.length} / {info.max_prompt_chars} characters
          </span>
        </div>
      )}
      {input === "images" && (
        <div className={styles.field}>
          <label htmlFor="images">Images (1–{MAX_IMAGES}: PNG, JPEG or WebP)</label>
          <input
            id="images"
            data-testid="images"
            type="file"
            accept="image/png,image/jpeg,image/webp"
            multiple
            required
            onChange={(event) => {
              const chosen = Array.from(event.target.files ?? []).slice(0, MAX_IMAGES);
              setImages(chosen);
              setBoxes(chosen.map(() => EMPTY_BOX));
            }}
          />
          {images.length > 0 && (
            <span className={styles.hint}>{images.map((file) => file.name).join(", ")}</span>
          )}
          {images.length > 0 && <SubjectBoxes files={images} boxes={boxes} onChange={setBoxes} />}
        </div>
      )}
      {input === "video" && (
        <div className={styles.field}>
          <label htmlFor="video">Video (MP4, MOV or WebM)</label>
          <input
            id="video"
            data-testid="video"
            type="file"
            accept="video/mp4,video/quicktime,video/webm"
            required
            onChange={(event) => setVideo(event.target.files?.[0] ?? null)}
          />
        </div>
      )}

      <div className={styles.grid}>
        {stages.map(([stage, s]) => (
          <div key={stage} className={styles.stage}>
            <div className={styles.field}>
              <label htmlFor={`provider-${stage}`}>{humanize(stage)} provider</label>
              <select
                id={`provider-${stage}`}
                data-testid={`provider-${stage}`}
                value={providers[stage] ?? s.default}
                onChange={(event) => chooseProvider(stage, event.target.value)}
              >
                {s.choices.map((choice) => (
                  <option
                    key={choice.name}
                    value={choice.name}
                    disabled={!choice.available}
                    title={choice.unavailable_reason ?? `${choice.queue} · v${choice.version}`}
                  >
                    {choice.name}
                    {choice.name === s.default ? " (default)" : ""}
                    {choice.available ? "" : " — unavailable"}
                  </option>
                ))}
              </select>
            </div>
            <OptionsFields
              stage={stage}
              schema={s.choices.find((choice) => choice.name === (providers[stage] ?? s.default))?.options_schema}
              values={options[stage] ?? {}}
              onChange={(values) => setOptions((current) => ({ ...current, [stage]: values }))}
            />
          </div>
        ))}
      </div>

      <div className={styles.row}>
        {FORMAT_KINDS.has(kind) && (
          <div className={styles.field}>
            <label htmlFor="output-format">Output format</label>
            <select id="output-format" value={outputFormat} onChange={(event) => setOutputFormat(event.target.value)}>
              {info.output_formats.map((format) => (
                <option key={format} value={format}>
                  {format}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className={styles.field}>
          <label htmlFor="quality">Quality</label>
          <select id="quality" value={qualityTier} onChange={(event) => setQualityTier(event.target.value)}>
            {info.quality_tiers.map((tier) => (
              <option key={tier} value={tier}>
                {tier}
              </option>
            ))}
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="seed">Seed</label>
          <input
            id="seed"
            data-testid="seed"
            type="number"
            min={0}
            max={2 ** 31 - 1}
            step={1}
            value={seed}
            onChange={(event) => setSeed(event.target.value)}
          />
        </div>
      </div>

      {error && (
        <div className={styles.error} role="alert" data-testid="form-error">
          <strong>{error.message}</strong>
          {error.problems.length > 0 && (
            <ul>
              {error.problems.map((problem, index) => (
                <li key={index}>
                  {problem.path ? <code>{problem.path}</code> : null} {problem.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}

      <div className={styles.actions}>
        <button type="submit" className="button primary" disabled={phase !== null} data-testid="submit">
          {phase ?? "Create job"}
        </button>
      </div>
    </form>
  );
}
