"""The CPU rasterizer against an independent slow compositor, and its backward against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from shared.splat.cpu_raster import Camera, Splats, backward, render

WIDTH, HEIGHT = 48, 40


def camera() -> Camera:
    """A camera a little off the origin, turned a little, looking roughly down +z."""
    rotation = Rotation.from_euler("xyz", [0.1, -0.15, 0.05]).as_matrix()
    return Camera(rotation, np.array([0.1, -0.05, 0.2]), 42.0, 40.0, 23.0, 21.0, WIDTH, HEIGHT)


def random_splats(rng: np.random.Generator, n: int, opacity: tuple[float, float], log_scale: tuple[float, float],
                  sh_degree: int = 3) -> Splats:
    cam = camera()
    points_in_camera = np.column_stack([rng.uniform(-0.5, 0.5, n), rng.uniform(-0.4, 0.4, n), rng.uniform(2.5, 4.0, n)])
    means = (points_in_camera - cam.translation) @ cam.rotation  # camera -> world
    sh = np.zeros((n, 16, 3))
    sh[:, 0] = rng.uniform(-1.2, 1.2, (n, 3))
    active = (sh_degree + 1) ** 2
    sh[:, 1:active] = rng.normal(0, 0.2, (n, active - 1, 3))
    p = rng.uniform(*opacity, n)
    return Splats(means=means, log_scales=rng.uniform(*log_scale, (n, 3)), quats=rng.normal(size=(n, 4)),
                  opacity_logits=np.log(p / (1 - p)), sh=sh)


def reference_render(splats: Splats, cam: Camera, degree: int, background: np.ndarray) -> np.ndarray:
    """3DGS image formation written plainly: one Gaussian at a time over the whole image, nearest first."""
    centre = -cam.rotation.T @ cam.translation
    ys, xs = np.mgrid[0:cam.height, 0:cam.width] + 0.5
    image = np.zeros((cam.height, cam.width, 3))
    transmittance = np.ones((cam.height, cam.width))
    done = np.zeros((cam.height, cam.width), bool)
    points = splats.means @ cam.rotation.T + cam.translation
    for i in np.argsort(points[:, 2], kind="stable"):
        x, y, z = points[i]
        quat = splats.quats[i]
        rotation = Rotation.from_quat([quat[1], quat[2], quat[3], quat[0]]).as_matrix()
        scale = np.diag(np.exp(splats.log_scales[i]))
        sigma = rotation @ scale @ scale @ rotation.T
        jacobian = np.array([[cam.fx / z, 0, -cam.fx * x / z**2], [0, cam.fy / z, -cam.fy * y / z**2]])
        cov = jacobian @ cam.rotation @ sigma @ cam.rotation.T @ jacobian.T + 0.3 * np.eye(2)
        inverse = np.linalg.inv(cov)
        u, v = cam.fx * x / z + cam.cx, cam.fy * y / z + cam.cy
        du, dv = u - xs, v - ys
        power = -0.5 * (inverse[0, 0] * du**2 + 2 * inverse[0, 1] * du * dv + inverse[1, 1] * dv**2)
        direction = (splats.means[i] - centre) / np.linalg.norm(splats.means[i] - centre)
        colour = np.maximum(0.0, sh_colour(splats.sh[i], direction, degree) + 0.5)
        alpha = np.minimum(0.99, 1 / (1 + np.exp(-splats.opacity_logits[i])) * np.exp(power))
        used = (power <= 0) & (alpha >= 1 / 255) & ~done
        stop = used & (transmittance * (1 - alpha) < 1e-4)
        done |= stop
        used &= ~stop
        image += np.where(used[..., None], (alpha * transmittance)[..., None] * colour, 0.0)
        transmittance = np.where(used, transmittance * (1 - alpha), transmittance)
    return image + transmittance[..., None] * background


def sh_colour(sh: np.ndarray, d: np.ndarray, degree: int) -> np.ndarray:
    """Real spherical harmonics in the sign convention of the 3DGS reference code."""
    x, y, z = d
    basis = [0.28209479177387814]
    if degree >= 1:
        basis += [-0.4886025119029199 * y, 0.4886025119029199 * z, -0.4886025119029199 * x]
    if degree >= 2:
        basis += [1.0925484305920792 * x * y, -1.0925484305920792 * y * z,
                  0.31539156525252005 * (2 * z * z - x * x - y * y), -1.0925484305920792 * x * z,
                  0.5462742152960396 * (x * x - y * y)]
    if degree >= 3:
        basis += [-0.5900435899266435 * y * (3 * x * x - y * y), 2.890611442640554 * x * y * z,
                  -0.4570457994644658 * y * (4 * z * z - x * x - y * y),
                  0.3731763325901154 * z * (2 * z * z - 3 * x * x - 3 * y * y),
                  -0.4570457994644658 * x * (4 * z * z - x * x - y * y), 1.445305721320277 * z * (x * x - y * y),
                  -0.5900435899266435 * x * (x * x - 3 * y * y)]
    return np.asarray(basis) @ sh[:len(basis)]


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_forward_matches_the_slow_compositor(degree):
    """Tiles and per-splat boxes only skip pixels where a splat is under 1/255: the image is the same."""
    splats = random_splats(np.random.default_rng(degree), 30, (0.05, 0.95), (-3.0, -1.5))
    background = np.array([0.2, 0.5, 0.9])
    ours = render(splats, camera(), degree, background)
    expected = reference_render(splats, camera(), degree, background)
    assert np.abs(expected - background).max() > 0.3  # the splats do show
    np.testing.assert_allclose(ours.image, expected, atol=1e-9)


def test_forward_caps_alpha_and_stops_at_low_transmittance():
    """Large opaque splats covering every tile: alpha held at 0.99, pixels saturate and stop early."""
    rng = np.random.default_rng(5)
    splats = random_splats(rng, 6, (0.995, 0.999), (0.7, 1.0), sh_degree=0)
    ours = render(splats, camera(), 0, np.zeros(3))
    assert (np.diff(ours.tile_offsets) == 6).all()  # every tile lists every splat
    assert ours.final_t.min() < 1e-3 and (ours.last < 6).any()  # some pixels stopped before their last splat
    np.testing.assert_allclose(ours.image, reference_render(splats, camera(), 0, np.zeros(3)), atol=1e-9)


def test_float32_forward_agrees_with_float64():
    splats = random_splats(np.random.default_rng(9), 40, (0.05, 0.9), (-3.0, -1.5))
    single = Splats(*(np.asarray(a, np.float32) for a in (splats.means, splats.log_scales, splats.quats,
                                                         splats.opacity_logits, splats.sh)))
    full = render(splats, camera(), 3).image
    assert np.abs(render(single, camera(), 3).image - full).max() < 2e-3


def loss_and_gradients(splats: Splats, degree: int, weights: np.ndarray):
    rendered = render(splats, camera(), degree, np.array([0.3, 0.1, 0.6]))
    return float((rendered.image * weights).sum()), backward(splats, rendered, weights)


@pytest.mark.parametrize(("degree", "fields"), [
    (0, ("means", "log_scales", "quats", "opacity_logits", "sh")),
    (2, ("log_scales", "quats", "opacity_logits", "sh")),  # the SH view direction is not differentiated (means)
])
def test_backward_matches_finite_differences(degree, fields):
    rng = np.random.default_rng(11 + degree)
    splats = random_splats(rng, 6, (0.3, 0.9), (-2.2, -1.6), sh_degree=degree)
    weights = rng.normal(size=(HEIGHT, WIDTH, 3))
    _, grads = loss_and_gradients(splats, degree, weights)
    eps = 1e-6
    for field in fields:
        values = getattr(splats, field)
        analytic = getattr(grads, field)
        numeric = np.zeros_like(values)
        flat, numeric_flat = values.reshape(-1), numeric.reshape(-1)
        for k in range(flat.size):
            if field == "sh" and k // 3 % 16 >= (degree + 1) ** 2:
                continue
            saved = flat[k]
            flat[k] = saved + eps
            plus, _ = loss_and_gradients(splats, degree, weights)
            flat[k] = saved - eps
            minus, _ = loss_and_gradients(splats, degree, weights)
            flat[k] = saved
            numeric_flat[k] = (plus - minus) / (2 * eps)
        scale = np.abs(numeric).max()
        assert scale > 1e-3, field  # the loss does depend on the field
        np.testing.assert_allclose(analytic, numeric, atol=2e-4 * scale, err_msg=field)
