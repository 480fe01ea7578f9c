/**
 * Where the splat preview puts its camera, from a sample of the splat centres (any file format)
 * and, when the job recorded one, the training camera its thumbnail was rendered from.
 *
 * Robust to stray splats (structure from motion leaves floaters far away): the centre is the
 * per-axis median and the radius the 90th-percentile distance from it.
 */

type Vec3 = [number, number, number];

/** The camera `splat.json` names (`view`): a training camera, in the splats' own coordinates. */
export interface SplatView {
  position: Vec3;
  forward: Vec3;
  up: Vec3;
  fov_y_deg: number;
}

export interface SplatFraming {
  position: Vec3;
  target: Vec3;
  up: Vec3;
  fovYDeg: number;
  /** Clip planes around the scene, so that nothing in it is cut and depth keeps its precision. */
  near: number;
  far: number;
}

export interface RobustBounds {
  center: Vec3;
  radius: number;
}

const DEFAULT_FOV_Y_DEG = 50;

/** Median centre and 90th-percentile radius of `xyz` (x, y, z per point; non-finite points ignored). */
export function robustBounds(xyz: Float32Array | number[]): RobustBounds {
  const xs: number[] = [];
  const ys: number[] = [];
  const zs: number[] = [];
  for (let i = 0; i + 2 < xyz.length; i += 3) {
    if (Number.isFinite(xyz[i]) && Number.isFinite(xyz[i + 1]) && Number.isFinite(xyz[i + 2])) {
      xs.push(xyz[i]);
      ys.push(xyz[i + 1]);
      zs.push(xyz[i + 2]);
    }
  }
  if (xs.length === 0) return { center: [0, 0, 0], radius: 1 };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const center: Vec3 = [median(xs), median(ys), median(zs)];
  const distances = xs.map((x, i) => Math.hypot(x - center[0], ys[i] - center[1], zs[i] - center[2]));
  distances.sort((a, b) => a - b);
  return { center, radius: Math.max(distances[Math.floor(distances.length * 0.9)] ?? 0, 1e-3) };
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]];
const unit = (a: Vec3): Vec3 | null => {
  const length = Math.hypot(...a);
  return length > 1e-9 && Number.isFinite(length) ? [a[0] / length, a[1] / length, a[2] / length] : null;
};

/**
 * The opening view. With a training camera: from that camera, looking where it looked, orbiting a point
 * on its axis at the depth of the scene's centre (so dragging turns around what the camera saw). Without
 * one: outside the robust bounds, looking at their centre, y-down (structure from motion's convention).
 */
export function splatFraming(bounds: RobustBounds, view?: SplatView | null): SplatFraming {
  const { center, radius } = bounds;
  const forward = view ? unit(view.forward) : null;
  const up = view ? unit(view.up) : null;
  if (view && forward && up && view.position.every(Number.isFinite)) {
    const depth = Math.max(dot(add(center, view.position, -1), forward), radius * 0.25);
    const reach = Math.hypot(...add(center, view.position, -1)) + radius;
    return {
      position: view.position,
      target: add(view.position, forward, depth),
      up,
      fovYDeg: view.fov_y_deg > 1 && view.fov_y_deg < 170 ? view.fov_y_deg : DEFAULT_FOV_Y_DEG,
      near: Math.max(reach * 1e-4, 1e-3),
      far: reach * 4,
    };
  }
  const distance = radius / Math.tan((DEFAULT_FOV_Y_DEG * Math.PI) / 360) * 1.2;
  const direction = unit([0, -0.25, -1]) as Vec3; // from slightly above (y is down), in front
  return {
    position: add(center, direction, distance),
    target: center,
    up: [0, -1, 0],
    fovYDeg: DEFAULT_FOV_Y_DEG,
    near: Math.max(distance * 1e-3, 1e-3),
    far: (distance + radius) * 8,
  };
}
