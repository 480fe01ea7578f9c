"use client";

import { useEffect, useRef, useState } from "react";

import { fetchApi } from "@/lib/api";
import { splatFraming } from "@/lib/splat-bounds";

import styles from "./Preview.module.css";

type LoadState = "loading" | "loaded" | "error";

/**
 * An interactive Gaussian-splat preview (@mkkellogg/gaussian-splats-3d, imported only when a job
 * has `scene.splat`). The file is fetched once, framed from its own positions, and handed to
 * the viewer as a blob URL (fetched with the API key, when there is one). No SharedArrayBuffer (the page
 * is not cross-origin isolated).
 */
export function SplatPreview({ src }: { src: string }) {
  const root = useRef<HTMLDivElement | null>(null);
  const [state, setState] = useState<LoadState>("loading");
  const [label, setLabel] = useState("Downloading splats…");
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const container = root.current;
    if (!container) return;
    let disposed = false;
    let viewer: { dispose(): Promise<void> } | null = null;
    let blobUrl: string | null = null;
    setState("loading");

    (async () => {
      const [GS, response] = await Promise.all([import("@mkkellogg/gaussian-splats-3d"), fetchApi(src)]);
      const buffer = await response.arrayBuffer();
      if (disposed) return;
      const { count, center, radius } = splatFraming(buffer);
      if (count === 0) throw new Error("the file holds no splats");
      setLabel(`Preparing ${count.toLocaleString()} splats…`);
      blobUrl = URL.createObjectURL(new Blob([buffer]));
      const instance = new GS.Viewer({
        rootElement: container,
        // Splats from structure-from-motion are y-down (OpenCV/COLMAP camera convention).
        cameraUp: [0, -1, 0],
        initialCameraPosition: [center[0], center[1] - radius * 0.8, center[2] - radius * 3.2],
        initialCameraLookAt: center,
        sharedMemoryForWorkers: false,
        gpuAcceleratedSort: false,
        sceneRevealMode: GS.SceneRevealMode.Instant,
        logLevel: GS.LogLevel.None,
      });
      viewer = instance;
      await instance.addSplatScene(blobUrl, {
        format: GS.SceneFormat.Splat,
        showLoadingUI: false,
        progressiveLoad: false,
        splatAlphaRemovalThreshold: 5,
      });
      if (disposed) return;
      instance.start();
      setState("loaded");
    })().catch((error: unknown) => {
      if (disposed) return;
      setState("error");
      setProblem(`The splat scene could not be shown: ${error instanceof Error ? error.message : String(error)}`);
    });

    return () => {
      disposed = true;
      const current = viewer;
      viewer = null;
      if (current) void current.dispose().catch(() => undefined);
      if (blobUrl) URL.revokeObjectURL(blobUrl);
    };
  }, [src]);

  return (
    <div className={`${styles.stage} ${styles.dark}`} data-testid="splat-preview" data-state={state}>
      <div ref={root} className={styles.splatRoot} />
      {state === "loading" && <div className={styles.overlay}>{label}</div>}
      {state === "error" && <div className={`${styles.overlay} ${styles.overlayError}`}>{problem}</div>}
      {state === "loaded" && <div className={styles.hint} data-testid="preview-hint">drag to orbit · right-drag to pan · ←/→ to roll</div>}
    </div>
  );
}
