/** Small display helpers. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAge(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** "generating_scene" -> "Generating scene". */
export function humanize(name: string | null | undefined): string {
  if (!name) return "";
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const KIND_LABELS: Record<string, string> = {
  env: "Environment",
  text_to_3d: "Text → 3D",
  image_to_3d: "Image → 3D",
  splat: "Video → splat",
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? humanize(kind);
}

/** A one-line description of what a job was asked to make. */
export function requestSummary(request: Record<string, unknown>): string {
  if (typeof request.prompt === "string") return request.prompt;
  const images = (request.images as unknown[] | undefined)?.length ?? 0;
  const urls = (request.image_urls as unknown[] | undefined)?.length ?? 0;
  if (images + urls > 0) return `${images + urls} image${images + urls === 1 ? "" : "s"}`;
  if (request.video) return "a video";
  if (request.plan) return "a scene plan";
  return "";
}
