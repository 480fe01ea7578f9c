"use client";

import { useEffect, useRef, useState } from "react";

import { fetchApi } from "@/lib/api";
import { robustBounds, type SplatView, splatFraming } from "@/lib/splat-bounds";

import styles from "./Preview.module.css";

type LoadState = "loading" | "loaded" | "error";

/** Centres sampled for framing: enough for stable percentiles, few enough to stay instant. */
const FRAMING_SAMPLES = 20_000;

/**
 * An interactive Gaussian-splat preview: Spark (@sparkjsdev/spark, a three.js splat renderer; imported
 * only when a job has splats) draws `src` (`.spz`, `.splat` or a 3DGS `.ply`), with three's orbit
 * controls. The file is fetched with the API key (when there is one) and handed over as bytes.
 * The camera opens where the job's thumbnail was rendered from (`view` in `reportSrc`, the job's
 * `splat.json`) or, without one, outside the splats' robust bounds.
 */
export function SplatPreview({ src, reportSrc }: { src: string; reportSrc?: string }) {
  const root = useRef<HTMLDivElement | null>(null);
  const [state, setState] = useState<LoadState>("loading");
  const [label, setLabel] = useState("Downloading splats…");
  const [problem, setProblem] = useState<string | null>(null);
  const [splats, setSplats] = useState(0);

  useEffect(() => {
    const container = root.current;
    if (!container) return;
    let disposed = false;
    const cleanups: (() => void)[] = [];
    setState("loading");

    (async () => {
      const [THREE, { OrbitControls }, Spark, bytes, view] = await Promise.all([
        import("three"),
        import("three/examples/jsm/controls/OrbitControls.js"),
        import("@sparkjsdev/spark"),
        fetchApi(src).then((response) => response.arrayBuffer()),
        reportSrc ? readView(reportSrc) : Promise.resolve(null),
      ]);
      if (disposed) return;
      if (bytes.byteLength === 0) throw new Error("the file is empty");
      setLabel("Decoding splats…");

      const renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
      renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
      renderer.setSize(container.clientWidth, container.clientHeight);
      container.appendChild(renderer.domElement);
      cleanups.push(() => {
        renderer.setAnimationLoop(null);
        renderer.dispose();
        renderer.domElement.remove();
      });
      const scene = new THREE.Scene();
      const spark = new Spark.SparkRenderer({ renderer });
      scene.add(spark);
      const fileType = src.endsWith(".spz") ? Spark.SplatFileType.SPZ
        : src.endsWith(".ply") ? Spark.SplatFileType.PLY : Spark.SplatFileType.SPLAT;
      const mesh = new Spark.SplatMesh({ fileBytes: new Uint8Array(bytes), fileType });
      cleanups.push(() => mesh.dispose());
      scene.add(mesh);
      await mesh.initialized;
      if (disposed) return;

      const count = mesh.splats?.getNumSplats() ?? 0;
      if (count === 0) throw new Error("the file holds no splats");
      const step = Math.max(1, Math.floor(count / FRAMING_SAMPLES));
      const centres: number[] = [];
      mesh.forEachSplat((index, center) => {
        if (index % step === 0) centres.push(center.x, center.y, center.z);
      });
      const framing = splatFraming(robustBounds(centres), view);

      const camera = new THREE.PerspectiveCamera(framing.fovYDeg, aspect(container), framing.near, framing.far);
      camera.position.set(...framing.position);
      camera.up.set(...framing.up); // before the controls: they orbit around this axis
      const controls = new OrbitControls(camera, renderer.domElement);
      controls.target.set(...framing.target);
      controls.enableDamping = true;
      controls.update();
      cleanups.push(() => controls.dispose());

      const resize = new ResizeObserver(() => {
        renderer.setSize(container.clientWidth, container.clientHeight);
        camera.aspect = aspect(container);
        camera.updateProjectionMatrix();
      });
      resize.observe(container);
      cleanups.push(() => resize.disconnect());
      renderer.setAnimationLoop(() => {
        controls.update();
        renderer.render(scene, camera);
      });
      setSplats(count);
      setState("loaded");
    })().catch((error: unknown) => {
      if (disposed) return;
      setState("error");
      setProblem(`The splat scene could not be shown: ${error instanceof Error ? error.message : String(error)}`);
    });

    return () => {
      disposed = true;
      for (const cleanup of cleanups.reverse()) cleanup();
    };
  }, [src, reportSrc]);

  return (
    <div className={`${styles.stage} ${styles.dark}`} data-testid="splat-preview" data-state={state}
      data-splats={splats || undefined}>
      <div ref={root} className={styles.splatRoot} />
      {state === "loading" && <div className={styles.overlay}>{label}</div>}
      {state === "error" && <div className={`${styles.overlay} ${styles.overlayError}`}>{problem}</div>}
      {state === "loaded" && <div className={styles.hint} data-testid="preview-hint">drag to orbit · right-drag to pan · scroll to zoom</div>}
    </div>
  );
}

function aspect(element: HTMLElement): number {
  return element.clientHeight > 0 ? element.clientWidth / element.clientHeight : 1;
}

/** The training camera a job's `splat.json` names, or null (older jobs, or a report that cannot be read). */
async function readView(url: string): Promise<SplatView | null> {
  try {
    const report = (await (await fetchApi(url)).json()) as { view?: SplatView };
    return report.view ?? null;
  } catch {
    return null;
  }
}
