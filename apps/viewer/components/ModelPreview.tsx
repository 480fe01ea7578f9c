"use client";

import { useEffect, useRef, useState } from "react";

import { useAuthorizedUrl } from "@/lib/useAuthorizedUrl";

import styles from "./Preview.module.css";

type LoadState = "loading" | "loaded" | "error";

/**
 * Where the camera starts: an environment is looked into from close by, as someone standing at its
 * edge; an object is framed whole (model-viewer's 100% radius fits its bounding sphere), so a tall
 * one keeps its top and bottom in view.
 */
const ORBIT = { scene: "30deg 62deg 78%", object: "30deg 70deg 105%" } as const;

/**
 * An interactive GLB preview with <model-viewer> (imported on first use: it needs `window`). The
 * element loads `src` by itself, so with an API key it gets the bytes as a blob: URL (useAuthorizedUrl).
 */
export function ModelPreview({ src, alt, scene = false }: { src: string; alt: string; scene?: boolean }) {
  const authorized = useAuthorizedUrl(src);
  const [elementReady, setElementReady] = useState(false);
  const [state, setState] = useState<LoadState>("loading");
  const [progress, setProgress] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const ref = useRef<HTMLElement | null>(null);

  useEffect(() => {
    let live = true;
    import("@google/model-viewer")
      .then(() => live && setElementReady(true))
      .catch((error: unknown) => {
        if (!live) return;
        setState("error");
        setProblem(`The 3D viewer could not start: ${String(error)}`);
      });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    const element = ref.current;
    if (!elementReady || !element) return;
    setState("loading");
    setProgress(0);
    const onLoad = () => setState("loaded");
    const onError = (event: Event) => {
      const detail = (event as CustomEvent<{ sourceError?: unknown }>).detail;
      setState("error");
      setProblem(`The model could not be shown${detail?.sourceError ? `: ${String(detail.sourceError)}` : "."}`);
    };
    const onProgress = (event: Event) => {
      const total = (event as CustomEvent<{ totalProgress?: number }>).detail?.totalProgress ?? 0;
      setProgress(Math.round(total * 100));
    };
    element.addEventListener("load", onLoad);
    element.addEventListener("error", onError);
    element.addEventListener("progress", onProgress);
    // The model may have loaded before the listeners were attached.
    if ((element as HTMLElement & { loaded?: boolean }).loaded) setState("loaded");
    return () => {
      element.removeEventListener("load", onLoad);
      element.removeEventListener("error", onError);
      element.removeEventListener("progress", onProgress);
    };
  }, [elementReady, authorized.url]);

  const shownState: LoadState = authorized.problem ? "error" : state;
  const shownProblem = authorized.problem ? `The model could not be downloaded: ${authorized.problem}` : problem;

  return (
    <div className={styles.stage} data-testid="model-preview" data-state={shownState}>
      {elementReady && authorized.url && (
        <model-viewer
          ref={ref}
          className={styles.viewer}
          src={authorized.url}
          alt={alt}
          camera-controls="true"
          camera-orbit={scene ? ORBIT.scene : ORBIT.object}
          interaction-prompt="none"
          shadow-intensity="0.8"
          exposure="1"
          environment-image="neutral"
          tone-mapping="neutral"
        />
      )}
      {shownState === "loading" && (
        <div className={styles.overlay}>Loading 3D preview… {progress > 0 ? `${progress}%` : ""}</div>
      )}
      {shownState === "error" && <div className={`${styles.overlay} ${styles.overlayError}`}>{shownProblem}</div>}
      {shownState === "loaded" && <div className={styles.hint} data-testid="preview-hint">drag to orbit · scroll to zoom · right-drag to pan</div>}
    </div>
  );
}
