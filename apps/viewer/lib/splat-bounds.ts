/**
 * Where to put the camera for a `.splat` file (antimatter15 layout: 32 bytes per splat,
 * position as 3 little-endian float32 first). Robust to stray splats: the centre is the
 * per-axis median and the radius the 90th percentile distance, over at most 20k samples.
 */
export interface SplatFraming {
  count: number;
  center: [number, number, number];
  radius: number;
}

const RECORD_BYTES = 32;

export function splatFraming(buffer: ArrayBuffer, maxSamples = 20_000): SplatFraming {
  const count = Math.floor(buffer.byteLength / RECORD_BYTES);
  if (count === 0) return { count, center: [0, 0, 0], radius: 1 };
  const view = new DataView(buffer);
  const step = Math.max(1, Math.floor(count / maxSamples));
  const xs: number[] = [];
  const ys: number[] = [];
  const zs: number[] = [];
  for (let i = 0; i < count; i += step) {
    const offset = i * RECORD_BYTES;
    const x = view.getFloat32(offset, true);
    const y = view.getFloat32(offset + 4, true);
    const z = view.getFloat32(offset + 8, true);
    if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
      xs.push(x);
      ys.push(y);
      zs.push(z);
    }
  }
  if (xs.length === 0) return { count, center: [0, 0, 0], radius: 1 };
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const center: [number, number, number] = [median(xs), median(ys), median(zs)];
  const distances = xs.map((x, i) => Math.hypot(x - center[0], ys[i] - center[1], zs[i] - center[2]));
  distances.sort((a, b) => a - b);
  const radius = Math.max(distances[Math.floor(distances.length * 0.9)] ?? 0, 1e-3);
  return { count, center, radius };
}
