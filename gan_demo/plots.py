"""Figures and plot data: the toy views as images, curves as data frames, CSV and GIF exports.

The live views are drawn straight into numpy arrays rather than through matplotlib: a frame costs
a few milliseconds, so ten refreshes a second barely touch the training thread's CPU.
Colours follow GAN Lab: green is real, purple is fake.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Sequence

import numpy as np

REAL = np.array([27, 158, 119], np.uint8)
FAKE = np.array([123, 50, 148], np.uint8)
BG_REAL = np.array([199, 233, 192], np.float32)  # D says "real"
BG_FAKE = np.array([231, 212, 232], np.float32)  # D says "fake"
MANIFOLD = np.array([110, 110, 110], np.uint8)
ARROW = np.array([230, 97, 1], np.uint8)
GRID = np.array([255, 255, 255], np.uint8)

# The curve charts' series, each with a fixed colour. A chart that is given its series up front
# keeps its legend and colours whatever it is first sent: one first drawn from an empty frame (a
# reset run) otherwise kept an empty colour domain, so its lines lost their legend.
LOSS_SERIES = {"D loss": "#1f77b4", "G loss": "#ff7f0e"}
SCORE_SERIES = {"D(x)": "#1b9e77", "D(G(z))": "#7b3294", "0.5 (can't tell)": "#9e9e9e"}  # real green, fake purple
RUN_SERIES = {"A": "#1f77b4", "B": "#d62728"}  # Versus: one colour per run


_RUN_SHADES = {"A": ["#08519c", "#6baed6", "#2171b5"], "B": ["#a50f15", "#fc9272", "#ef3b2c"]}


def dashed_run_css(run: str = "B", charts: str = '[id^="versus-"][id$="-plot"]') -> str:
    """CSS that dashes one Versus run's lines (every colour it is drawn in), so where A and B
    coincide (both covering 8 modes) the dashes show A's line beneath B's."""
    colours = sorted({RUN_SERIES[run], *_RUN_SHADES[run]})
    selectors = ", ".join(f'{charts} path[stroke="{c}"]' for c in colours)
    return f"{selectors} {{ stroke-dasharray: 7 4; }}"


def versus_series(series: dict[str, str]) -> dict[str, str]:
    """Versus names each series by its run ("A D loss", "B D loss"). The run sets the hue (A blue,
    B red, as on the quality charts) and the series the shade (the first dark, the second light),
    so a glance tells the runs apart first; a shared reference line (D's 0.5) keeps its colour."""
    out, i = {}, 0
    for name, colour in series.items():
        if name.startswith("0.5"):
            out[name] = colour
            continue
        for run, shades in _RUN_SHADES.items():
            out[f"{run} {name}"] = shades[i % len(shades)]
        i += 1
    return out


def _to_px(points: np.ndarray, bounds: tuple[float, float], size: int) -> np.ndarray:
    """Data coordinates -> integer pixel (col, row), y pointing up; NaN/inf points dropped."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(1)]
    lo, hi = bounds
    col = (pts[:, 0] - lo) / (hi - lo) * (size - 1)
    row = (hi - pts[:, 1]) / (hi - lo) * (size - 1)
    return np.stack([col, row], 1)


def _dots(img: np.ndarray, px: np.ndarray, color: np.ndarray, radius: int = 1) -> None:
    h, w = img.shape[:2]
    px = np.round(px).astype(np.int64)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius + radius:
                continue
            c, r = px[:, 0] + dx, px[:, 1] + dy
            ok = (c >= 0) & (c < w) & (r >= 0) & (r < h)
            img[r[ok], c[ok]] = color


def _lines(img: np.ndarray, a: np.ndarray, b: np.ndarray, color: np.ndarray, samples: int = 24) -> None:
    """Segments a[i] -> b[i] in pixel coordinates, drawn as closely spaced dots."""
    if len(a) == 0:
        return
    t = np.linspace(0, 1, samples)[None, :, None]
    pts = (a[:, None, :] * (1 - t) + b[:, None, :] * t).reshape(-1, 2)
    _dots(img, pts, color, radius=0)


def _heat(values: np.ndarray, size: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.5)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    v = np.clip((v - lo) / (hi - lo), 0, 1)
    colors = (BG_FAKE + (BG_REAL - BG_FAKE) * v[..., None]).astype(np.uint8)  # on the small grid
    if v.ndim != 2:
        return colors
    idx = (np.arange(size) * v.shape[0] / size).astype(int)  # nearest-neighbour upscale
    return colors[idx][:, idx]


def score_range(values: np.ndarray, probability: bool) -> tuple[float, float]:
    """Colour scale of D's landscape: [0, 1] for probabilities, the observed range for scores."""
    if probability:
        return 0.0, 1.0
    finite = np.asarray(values)[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def view_2d(bounds: tuple[float, float], real: np.ndarray | None, fake: np.ndarray | None,
            d_grid: np.ndarray | None = None, probability: bool = True, manifold: np.ndarray | None = None,
            arrows: tuple[np.ndarray, np.ndarray] | None = None, size: int = 420) -> np.ndarray:
    """GAN Lab's main view: D's landscape, G's manifold, real (green) and fake (purple) points,
    and optional arrows (start points, vectors) of where G's gradient pushes fakes."""
    if d_grid is not None:
        img = _heat(d_grid, size, *score_range(d_grid, probability))
    else:
        img = np.full((size, size, 3), 250, np.uint8)
    lo, hi = bounds
    for tick in range(int(np.ceil(lo)), int(np.floor(hi)) + 1):  # unit grid lines
        p = _to_px(np.array([[tick, tick]]), bounds, size)[0]
        img[:, int(p[0])] = (img[:, int(p[0])] * 0.85 + GRID * 0.15).astype(np.uint8)
        img[int(p[1]), :] = (img[int(p[1]), :] * 0.85 + GRID * 0.15).astype(np.uint8)
    if manifold is not None and manifold.shape[-1] == 2:
        # [res, res, 2] (or [sheets, res, res, 2] with a noise code): the rows of each sheet, then
        # its columns, all segments at once
        sheets = np.asarray(manifold, np.float64).reshape(-1, *manifold.shape[-3:])
        ends = [(rows[:, :-1].reshape(-1, 2), rows[:, 1:].reshape(-1, 2))
                for sheet in sheets for rows in (sheet, np.swapaxes(sheet, 0, 1))]
        a, b = np.concatenate([e[0] for e in ends]), np.concatenate([e[1] for e in ends])
        ok = np.isfinite(a).all(1) & np.isfinite(b).all(1)
        _lines(img, _to_px(a[ok], bounds, size), _to_px(b[ok], bounds, size), MANIFOLD, samples=8)
    if real is not None:
        _dots(img, _to_px(real, bounds, size), REAL, radius=1)
    if fake is not None:
        _dots(img, _to_px(fake, bounds, size), FAKE, radius=1)
    if arrows is not None:
        start, vec = (np.asarray(a, np.float64) for a in arrows)
        ok = np.isfinite(start).all(1) & np.isfinite(vec).all(1)
        start, vec = start[ok], vec[ok]
        if len(start):
            scale = 0.08 * (hi - lo) / (np.percentile(np.linalg.norm(vec, axis=1), 90) + 1e-12)
            _lines(img, _to_px(start, bounds, size), _to_px(start + vec * scale, bounds, size), ARROW)
    return img


def view_1d(bounds: tuple[float, float], real: np.ndarray, fake: np.ndarray, d_curve: np.ndarray,
            probability: bool = True, width: int = 420, height: int = 280, bins: int = 60) -> np.ndarray:
    """Histograms of real (green) and fake (purple) samples and D's curve (black) over x, with the
    x axis numbered and a legend: a bare picture did not say where the data sits or what the
    curve is."""
    from PIL import Image, ImageDraw, ImageFont

    img = np.full((height, width, 3), 250, np.uint8)
    top_pad, axis = 30, 26  # the legend above, the numbered axis below
    plot_h = height - top_pad - axis
    lo, hi = bounds
    edges = np.linspace(lo, hi, bins + 1)
    hr, _ = np.histogram(np.asarray(real).ravel(), edges, density=True)
    hf, _ = np.histogram(np.nan_to_num(np.asarray(fake).ravel(), nan=lo - 1), edges, density=True)
    peak = max(hr.max(initial=0), hf.max(initial=0), 1e-9)
    bar_w = width / bins
    base = top_pad + plot_h
    for i in range(bins):
        c0, c1 = int(i * bar_w), max(int(i * bar_w) + 1, int((i + 1) * bar_w) - 1)
        for h, color, alpha in ((hr[i], REAL, 0.55), (hf[i], FAKE, 0.55)):
            r = int((1 - h / peak) * plot_h) + top_pad
            img[r:base, c0:c1] = (img[r:base, c0:c1] * (1 - alpha) + color * alpha).astype(np.uint8)
    d = np.asarray(d_curve, np.float64)
    dlo, dhi = score_range(d, probability)
    rows = (1 - (np.clip(np.nan_to_num(d, nan=dlo), dlo, dhi) - dlo) / max(dhi - dlo, 1e-9)) * plot_h + top_pad
    cols = np.linspace(0, width - 1, len(d))
    px = np.stack([cols, rows], 1)
    _lines(img, px[:-1], px[1:], np.array([20, 20, 20], np.uint8), samples=12)
    if probability:  # the 0.5 line where D cannot tell
        half = int(0.5 * plot_h + top_pad)
        img[half, ::6] = (90, 90, 90)
    img[base, :] = (120, 120, 120)
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    font = ImageFont.load_default(size=12)
    for tick in range(int(np.ceil(lo)), int(np.floor(hi)) + 1):
        x = int((tick - lo) / (hi - lo) * (width - 1))
        draw.line([(x, base), (x, base + 4)], fill=(120, 120, 120))
        label = str(tick)
        w = draw.textlength(label, font=font)
        draw.text((min(max(x - w / 2, 0), width - w), base + 7), label, fill=(60, 60, 60), font=font)
    x = 6
    for text, colour in (("real data", tuple(REAL)), ("G's samples", tuple(FAKE)),
                         ("D's output" + (" (dotted: 0.5)" if probability else ""), (20, 20, 20))):
        draw.rectangle([x, 9, x + 10, 19], fill=colour)
        draw.text((x + 14, 7), text, fill=(40, 40, 40), font=font)
        x += 14 + draw.textlength(text, font=font) + 14
    return np.asarray(pil)


def downsample(history: dict[str, np.ndarray], max_points: int = 400) -> dict[str, np.ndarray]:
    n = len(history.get("step", []))
    if n <= max_points:
        return history
    idx = np.linspace(0, n - 1, max_points).astype(int)
    return {k: v[idx] for k, v in history.items()}


EMPTY_STEPS = (0, 100)  # the x range of a chart with nothing to draw yet


def curves_frame(history: dict[str, np.ndarray], columns: Sequence[str], labels: dict[str, str] | None = None,
                 max_points: int = 400, smooth: int = 1):
    """Long-format data frame (step, value, series) for a line plot of ``columns``."""
    import pandas as pd

    labels = labels or {}
    h = {"step": history["step"], **{c: history[c] for c in columns if c in history}}
    if smooth > 1 and len(h["step"]) > smooth:  # trailing moving average: no dip at either end
        kernel = np.ones(smooth) / smooth
        h = {k: (v[smooth - 1:] if k == "step" else np.convolve(v, kernel, mode="valid")) for k, v in h.items()}
    h = downsample(h, max_points)
    parts = [pd.DataFrame({"step": h["step"], "value": h[c].astype(float), "series": labels.get(c, c)})
             for c in columns if c in h]
    if not parts:
        return pd.DataFrame({"step": [], "value": [], "series": []})
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[np.isfinite(frame["value"])]
    # Every series appears in every frame, if only as one empty (NaN) row that draws nothing: the
    # chart fixes its legend and colours from the first frame it gets (Gradio's LinePlot builds its
    # colour domain once), so a series absent then (a reset run, a metric not measured yet) would
    # be drawn without a legend entry, in no colour of its own.
    missing = [labels.get(c, c) for c in columns if labels.get(c, c) not in set(frame["series"])]
    if missing:
        # With no steps at all (a run just reset) the empty rows span steps 0-100: a chart whose
        # x domain is one point labels its only tick "NaN".
        steps = [int(h["step"][0])] if len(h["step"]) else list(EMPTY_STEPS)
        frame = pd.concat([frame, *(pd.DataFrame({"step": s, "value": np.nan, "series": missing}) for s in steps)],
                          ignore_index=True)
    return frame


def at_evaluations(history: dict[str, np.ndarray], column: str) -> dict[str, np.ndarray]:
    """The steps where ``column`` (a metric measured every K steps, forward-filled in between)
    was measured: a curve through the measurements instead of a staircase."""
    values = history[column]
    finite = np.isfinite(values)
    keep = finite & np.r_[True, values[1:] != values[:-1]]
    if finite.any():  # and the latest step, so a value that has not changed still draws a line
        keep[np.flatnonzero(finite)[-1]] = True
    return {"step": history["step"][keep], column: values[keep]}


QUALITY_TITLES = {"modes": "Modes covered", "hq_pct": "High-quality samples %", "kl": "KL(real || fake)",
                  "js": "JS divergence (≤ ln 2)"}  # short: the chart is a third of the page wide


# Short y-axis titles for the quality charts (the chart's own title says the rest).
QUALITY_AXES = {QUALITY_TITLES["modes"]: "modes", QUALITY_TITLES["hq_pct"]: "% of samples",
                QUALITY_TITLES["kl"]: "KL (nats)", QUALITY_TITLES["js"]: "JS (nats)"}


def quality_axis(title: str, dataset: str) -> dict[str, Any]:
    """A quality chart's y axis: its title and a fixed range where the metric has one (0 to the
    number of modes, 0-100 %, JS 0 to ln 2; from 0 for KL and the Frechet distance), so whole
    modes get whole ticks and a flat curve or a first point does not zoom into one stray tick."""
    from .data import mode_count

    limits = {QUALITY_TITLES["modes"]: [0, max(mode_count(dataset), 1)], QUALITY_TITLES["hq_pct"]: [0, 100],
              QUALITY_TITLES["kl"]: [0, None], QUALITY_TITLES["js"]: [0, 0.7]}
    return {"y_title": QUALITY_AXES.get(title, "Frechet distance"), "y_lim": limits.get(title, [0, None])}


def quality_curves(history: dict[str, np.ndarray], dataset: str) -> list[tuple[str, Any]]:
    """A toy run's two quality charts, each (title, long frame), one metric per chart so each has
    its own axis: modes covered and high-quality % on data with several modes; KL and JS on the
    1D Gaussian, the spiral, the moons and drawings, whose "modes" say nothing. Chosen by the data
    set, not by what was measured: a run just reset has measured nothing yet and keeps its charts."""
    from .data import counts_modes

    with_modes = counts_modes(dataset)
    return [(QUALITY_TITLES[c], curves_frame(at_evaluations(history, c), [c], QUALITY_TITLES))
            for c in (("modes", "hq_pct") if with_modes else ("kl", "js"))]


def with_level(frame, level: float, label: str):
    """Add a horizontal reference line (D's 0.5) spanning the frame's steps as one more series."""
    import pandas as pd

    lo, hi = frame["step"].min(), frame["step"].max()
    if not np.isfinite(frame["value"]).any():  # nothing measured yet: the line alone, over 0-100
        lo, hi = EMPTY_STEPS
    return pd.concat([frame, pd.DataFrame({"step": [lo, hi], "value": [level, level], "series": label})],
                     ignore_index=True)


# D(x) and D(G(z)) drift to 0.5 at equilibrium where D's score is a probability, and for LSGAN
# (labels 1 and 0: D* = p_data / (p_data + p_g)); a WGAN critic's or a hinge D's raw score has no 0.5.
HALF_AT_EQUILIBRIUM = frozenset({"minimax", "ns", "lsgan"})


def d_scores(frame, losses, colours: dict[str, str] | None = None):
    """(frame, colour map) of the D-score chart: D's mean scores, with the 0.5 line ("can't tell")
    and its legend entry only when every run's loss has one (a chart keeps the legend of its
    colour map, so a WGAN run would otherwise list a line it does not draw)."""
    colours = SCORE_SERIES if colours is None else colours
    if all(loss in HALF_AT_EQUILIBRIUM for loss in losses):
        return with_level(frame, 0.5, "0.5 (can't tell)"), colours
    return frame, {k: v for k, v in colours.items() if not k.startswith("0.5")}


def history_csv(history: dict[str, np.ndarray], path: str | Path) -> Path:
    path = Path(path)
    cols = list(history)
    data = np.column_stack([np.asarray(history[c], dtype=np.float64) for c in cols]) if cols else np.zeros((0, 0))
    np.savetxt(path, data, delimiter=",", header=",".join(cols), comments="", fmt="%.6g")
    return path


def save_png(image: np.ndarray, path: str | Path) -> Path:
    from PIL import Image

    Image.fromarray(image).save(path)
    return Path(path)


def frames_for_gif(frames: np.ndarray, scale: int = 4, bounce: bool = True) -> list[np.ndarray]:
    """uint8 [K, H, W, C] -> upscaled 2D/RGB frames, played there and back so the loop has no jump."""
    frames = np.asarray(frames)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    out = [f.repeat(scale, 0).repeat(scale, 1) for f in frames]
    return out + out[-2:0:-1] if bounce and len(out) > 2 else out


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement: pixels stay crisp squares (28x28 samples, GIF frames)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def gif_bytes(frames: Sequence[np.ndarray], fps: float = 10.0) -> bytes:
    from PIL import Image

    if not frames:
        raise ValueError("no frames")
    imgs = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()



def toy_view(gan, phase: dict[str, np.ndarray] | None = None, show_manifold: bool = True,
             show_arrows: bool = False, n_points: int = 600, size: int = 420) -> np.ndarray:
    """The Train tab's picture of a ``ToyGAN`` (1D or 2D), with slow-motion highlights if any.

    ``gan`` is the reader's copy of the nets (see ``LiveTrainer.reader``), never the one training.
    """
    from .losses import PROBABILITY_LOSSES

    probability = gan.cfg.loss in PROBABILITY_LOSSES
    data = gan.data
    real = gan.view_real(n_points)
    fake = gan.samples(n_points)
    if data.dim == 1:
        return view_1d(data.bounds, real, fake, gan.decision_grid(200), probability, width=size,
                       height=int(size * 0.85))
    phase = phase or {}
    if phase:
        real, fake = phase.get("real"), phase.get("fake")
    arrows = None
    if "arrows" in phase and fake is not None:
        arrows = (fake, phase["arrows"])
    elif show_arrows and fake is not None:
        arrows = (fake[:150], gan.g_gradients(fake[:150]))
    return view_2d(data.bounds, real, fake, gan.decision_grid(48), probability,
                   gan.manifold() if show_manifold else None, arrows, size)
