"""Charts for reports, returned as PNG bytes (matplotlib, Agg, a CJK font).

Each function takes result frames and a language ('zh' or 'en') and draws on a fresh
:class:`matplotlib.figure.Figure` (no global pyplot state).
"""

from __future__ import annotations

import collections
import functools
import hashlib
import io
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from costperf.columns import code_label_map, message, natural_key
from costperf.report import background
from costperf.report.fonts import use_cjk_font
from costperf.report.formats import pretty_units

#: resolution of every chart's PNG [dots per inch]
DPI = 110
#: room kept between the texts and the figure's edge, and between neighbouring axes
#: [inch] (what matplotlib's constrained layout keeps)
PAD = 3 / 72


#: zlib level of the PNGs: 3 writes them in about 60 % of the time of PIL's default 6
#: and (with no alpha channel) 10 % smaller than matplotlib's RGBA PNG at level 6
PNG_COMPRESS_LEVEL = 3


def to_png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    """The figure as PNG at :data:`DPI`, its axes placed by :func:`fit` and drawn once
    (a layout engine or ``bbox_inches="tight"`` draws every figure twice).

    Written as RGB: the figure is opaque (a white face), so the alpha channel that
    matplotlib's own PNG keeps is 255 everywhere and only costs time and bytes.
    """
    from PIL import Image

    canvas = fig.canvas
    fit(fig)
    canvas.draw()
    size = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(
        buf, format="png", compress_level=PNG_COMPRESS_LEVEL, dpi=(fig.dpi, fig.dpi)
    )
    return buf.getvalue()


def fit(fig) -> None:  # noqa: ANN001 - a matplotlib Figure
    """Place the axes of ``fig`` so that every text fits inside it, :data:`PAD` from the
    edges and from each other.

    The subplot margins and the space between the axes of a grid are set from what the
    decorations of each axes (tick labels, axis labels, titles, legends, annotations, a
    colorbar) reach beyond it, and from the figure's suptitle and supxlabel: measured
    once, and again only when the new axes size moved the ticks (the tick labels, and
    so what they reach, follow the ticks).
    """
    renderer = fig.canvas.get_renderer()
    for _ in range(3):
        ticks = _tick_locations(fig)
        _place(fig, renderer)
        if _tick_locations(fig) == ticks:
            return


def _tick_locations(fig) -> list[tuple[float, ...]]:  # noqa: ANN001
    return [tuple(axis.get_majorticklocs()) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]


def _place(fig, renderer) -> None:  # noqa: ANN001
    """One measure-and-place step of :func:`fit`."""
    from matplotlib.transforms import Bbox

    width, height = fig.bbox.width, fig.bbox.height
    pad = PAD * fig.dpi
    cells: dict[tuple[int, int, int, int], list] = {}  # grid cell -> its axes
    nrows = ncols = 1
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if not ax.get_visible() or spec is None:
            continue
        top = spec.get_topmost_subplotspec()
        nrows, ncols = top.get_gridspec().get_geometry()
        rows, cols = top.rowspan, top.colspan
        cells.setdefault((rows.start, rows.stop, cols.start, cols.stop), []).append(ax)
    if not cells:
        return
    # per cell: how far its decorations reach left, right, below and above it [pixels]
    reach = {}
    for key, axes in cells.items():
        box = Bbox.union([ax.bbox for ax in axes])
        tight = Bbox.union([b for ax in axes if (b := ax.get_tightbbox(renderer))] or [box])
        reach[key] = (box.x0 - tight.x0, tight.x1 - box.x1, box.y0 - tight.y0, tight.y1 - box.y1)

    def most(side: int, where: Callable[[tuple[int, int, int, int]], bool]) -> float:
        return max([max(r[side], 0.0) for k, r in reach.items() if where(k)] or [0.0])

    above = pad
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_visible() and suptitle.get_text():
        above += height - suptitle.get_window_extent(renderer).y0
    below = pad
    supxlabel = getattr(fig, "_supxlabel", None)
    if supxlabel is not None and supxlabel.get_visible() and supxlabel.get_text():
        below += supxlabel.get_window_extent(renderer).y1
    left = pad + most(0, lambda k: k[2] == 0)
    right = pad + most(1, lambda k: k[3] == ncols)
    bottom = below + most(2, lambda k: k[1] == nrows)
    top = above + most(3, lambda k: k[0] == 0)
    wgap = max([pad + most(1, lambda k, c=c: k[3] == c) + most(0, lambda k, c=c: k[2] == c)
                for c in range(1, ncols)] or [0.0])  # fmt: skip
    hgap = max([pad + most(2, lambda k, r=r: k[1] == r) + most(3, lambda k, r=r: k[0] == r)
                for r in range(1, nrows)] or [0.0])  # fmt: skip
    inner_w = width - left - right - (ncols - 1) * wgap
    inner_h = height - bottom - top - (nrows - 1) * hgap
    if inner_w < 0.1 * width or inner_h < 0.1 * height:
        return  # the texts leave no room for the axes: kept where they are
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wgap / (inner_w / ncols),  # of the mean axes width
        hspace=hgap / (inner_h / nrows),
    )


#: charts kept in memory (PNG bytes, about 50 KB each), the most recently drawn
MEMO_SIZE = 32
_MEMO: collections.OrderedDict[str, bytes] = collections.OrderedDict()


def chart(draw: Callable[..., object]) -> Callable[..., bytes]:
    """Make a function drawing a Figure return PNG bytes; ``.figure`` draws only (tests
    read the texts of the figure), ``.key`` is the fingerprint of its arguments by which
    a chart sent to the worker is found again (:func:`costperf.report.background.sent`).

    A chart is a pure function of its arguments, so the PNG of the same arguments (the
    same frames, values and dtypes, the same matplotlib settings) is drawn once per
    process and then reused (:data:`MEMO_SIZE` charts): a test suite that runs the same
    case many times draws its charts once. Arguments that cannot be fingerprinted are
    drawn every time.
    """

    @functools.wraps(draw)
    def render(*args: object, **kwargs: object) -> bytes:
        if background.active():  # a worker draws it (or drew it: sent early, same args)
            key = _args_key(draw, args, kwargs)
            pending = background.sent(key) or background.submit(render, args, kwargs, key)
            if pending is not None:
                return pending
        key = _memo_key(draw, args, kwargs)
        if key is None:
            return to_png(draw(*args, **kwargs))
        png = _MEMO.get(key)
        if png is None:
            png = _MEMO[key] = to_png(draw(*args, **kwargs))
            while len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
        else:
            _MEMO.move_to_end(key)
        return png

    render.figure = draw
    render.figure_png = lambda *args, **kwargs: to_png(draw(*args, **kwargs))
    render.key = lambda *args, **kwargs: _args_key(draw, args, kwargs)
    return render


def _memo_key(draw: Callable[..., object], args: tuple, kwargs: dict) -> str | None:
    """SHA-256 of the chart, its arguments and the matplotlib settings; None when an
    argument is of a kind not fingerprinted here."""
    use_cjk_font()  # the settings every chart draws with, before they are read
    import matplotlib

    digest = hashlib.sha256(matplotlib.__version__.encode())
    digest.update(repr(sorted(matplotlib.rcParams.items())).encode())
    return _args_key(draw, args, kwargs, digest)


def _args_key(
    draw: Callable[..., object], args: tuple, kwargs: dict, digest: hashlib._Hash | None = None
) -> str | None:
    """SHA-256 of the chart and its arguments (and what ``digest`` holds already), with
    no matplotlib imported; None when an argument is of a kind not fingerprinted here."""
    digest = digest or hashlib.sha256()
    digest.update(f"{draw.__module__}.{draw.__qualname__}".encode())
    items = [*args, *(x for k in sorted(kwargs) for x in (k, kwargs[k]))]
    return digest.hexdigest() if all(_fingerprint(v, digest) for v in items) else None


def _fingerprint(value: object, digest: hashlib._Hash) -> bool:
    """Feed ``value`` to ``digest`` (frames and series by their hashed cells, index,
    labels and dtypes); False for a value of another kind."""
    if isinstance(value, pd.DataFrame | pd.Series):
        labels = value.columns if isinstance(value, pd.DataFrame) else [value.name]
        dtypes = value.dtypes if isinstance(value, pd.DataFrame) else [value.dtype]
        digest.update(repr((type(value).__name__, list(labels), [str(t) for t in dtypes],
                            value.shape)).encode())  # fmt: skip
        try:
            cells = pd.util.hash_pandas_object(value, index=True)
        except (TypeError, ValueError):  # unhashable cells (lists ...)
            return False
        digest.update(cells.to_numpy().tobytes())
        return True
    if value is None or isinstance(value, str | int | float | bool):
        digest.update(repr((type(value).__name__, value)).encode())
        return True
    if isinstance(value, dict | list | tuple):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        pairs = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        return all(_fingerprint(k, digest) and _fingerprint(v, digest) for k, v in pairs)
    return False


def new_figure(width: float = 8.0, height: float = 4.5):
    """A new figure of ``width`` x ``height`` inches at :data:`DPI` on an Agg canvas (its
    axes are placed by :func:`fit` when it is drawn)."""
    use_cjk_font()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _plain(ax, *, x: bool = True, y: bool = True, decimals: int = 0) -> None:  # noqa: ANN001, ARG001
    """Tick labels as plain numbers with thousands separators (no 1e6 offsets); the
    decimals follow the tick spacing (2.5 steps read 12.5, not 12)."""
    from matplotlib.ticker import ScalarFormatter

    class Plain(ScalarFormatter):
        def __init__(self) -> None:
            super().__init__(useOffset=False)
            self.set_scientific(False)

        def __call__(self, value: float, pos: int | None = None) -> str:
            text = super().__call__(value, pos)
            if not text:
                return text
            places = len(text.split(".")[1]) if "." in text else 0
            return f"{value:,.{places}f}"

    if x:
        ax.xaxis.set_major_formatter(Plain())
    if y:
        ax.yaxis.set_major_formatter(Plain())


@chart
def unit_cost_box(
    units: pd.DataFrame,
    *,
    by: str,
    hue: str = "district",
    standard: pd.DataFrame | None = None,
    output_unit: str = "m2",
    dim_label: str = "",
    lang: str = "zh",
):
    """Box plot of unit costs per ``by`` group, with each contract as a dot coloured by ``hue``."""
    fig = new_figure()
    ax = fig.add_subplot()
    groups = sorted(units[by].dropna().unique(), key=natural_key)
    data = [units.loc[units[by] == g, "unit_cost"].dropna().to_numpy() for g in groups]
    ax.boxplot(data, showfliers=False, widths=0.5)
    ax.set_xticks(range(1, len(groups) + 1), [str(g) for g in groups])
    rng = np.random.default_rng(0)
    for k, name in enumerate(sorted(units[hue].dropna().unique())):
        sub = units[units[hue] == name]
        x = sub[by].map({g: i + 1 for i, g in enumerate(groups)}).to_numpy(float)
        ax.scatter(
            x + rng.uniform(-0.18, 0.18, len(x)),
            sub["unit_cost"],
            s=18,
            alpha=0.8,
            label=str(name),
            color=f"C{k}",
        )
    if standard is not None and not standard.empty:
        for i, g in enumerate(groups, start=1):
            value = standard.loc[standard[by] == g, "value"]
            if len(value):
                ax.hlines(value.iloc[0], i - 0.3, i + 0.3, colors="black", linestyles="--")
        ax.plot([], [], "k--", label=pretty_units(message("chart.standard", lang)))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(pretty_units(dim_label or by))
    ax.set_ylabel(pretty_units(message("chart.unit_cost", lang, u=output_unit)))
    ax.set_title(pretty_units(message("chart.box_title", lang, d=dim_label or by)))
    ax.legend(fontsize=8, ncol=3, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    _plain(ax, x=False, decimals=0)
    return fig


@chart
def district_bars(
    groups: pd.DataFrame,
    *,
    by: str = "district",
    output_unit: str = "m2",
    lang: str = "zh",
    peer_median: float | None = None,
    standard_at_mix: pd.Series | None = None,
):
    """Each district's unit cost (total cost / total output), with reference lines: the
    median of all contracts and, per district, the standard at its own grade mix."""
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    names = groups[by].astype(str).tolist()
    x = np.arange(len(names))
    ax.bar(x, groups["unit_cost"], color="C0", width=0.6)
    for i, y in zip(x, groups["unit_cost"], strict=True):
        ax.annotate(f"{y:.2f}", (i, y), ha="center", va="bottom", fontsize=9)
    if peer_median is not None and np.isfinite(peer_median):
        ax.axhline(peer_median, color="C3", linestyle="--", linewidth=1.2,
                   label=pretty_units(message("chart.peer_median", lang, v=peer_median)))  # fmt: skip
    if standard_at_mix is not None:
        values = standard_at_mix.reindex(groups[by]).to_numpy(float)
        ax.hlines(values, x - 0.36, x + 0.36, colors="black", linewidth=2,
                  label=pretty_units(message("chart.standard_mix", lang)))  # fmt: skip
    ax.set_xticks(x, names)
    top = float(np.nanmax(groups["unit_cost"].to_numpy(float))) if len(groups) else 1.0
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel(pretty_units(message("chart.unit_cost", lang, u=output_unit)))
    ax.set_title(pretty_units(message("chart.district_title", lang)))
    ax.grid(axis="y", alpha=0.3)
    if peer_median is not None or standard_at_mix is not None:
        ax.legend(fontsize=8, loc="upper right", ncol=2)
    _plain(ax, x=False)
    return fig


def _waterfall_on(ax, reference_value: float, effects: pd.Series, names: list[str]):  # noqa: ANN001
    """A horizontal, zero-based waterfall: reference, each effect, the result."""
    steps = effects.to_numpy(float)
    starts = reference_value + np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    final = reference_value + steps.sum()
    y = np.arange(len(steps) + 2)[::-1]
    ax.barh(y[0], reference_value, color="0.6")
    colors = ["C3" if v > 0 else "C2" for v in steps]
    ax.barh(y[1:-1], steps, left=starts, color=colors)
    ax.barh(y[-1], final, color="C0")
    ax.annotate(f"{reference_value:.2f}", (reference_value, y[0]), va="center", fontsize=8,
                xytext=(2, 0), textcoords="offset points")  # fmt: skip
    ax.annotate(f"{final:.2f}", (final, y[-1]), va="center", fontsize=8,
                xytext=(2, 0), textcoords="offset points")  # fmt: skip
    for yy, b, v in zip(y[1:-1], starts, steps, strict=True):
        ax.annotate(f"{v:+.2f}", (b + max(v, 0), yy), va="center", fontsize=8,
                    xytext=(2, 0), textcoords="offset points")  # fmt: skip
    ax.set_yticks(y, names)
    ax.set_xlim(0, max(reference_value, final, float((starts + steps).max())) * 1.3)
    ax.grid(axis="x", alpha=0.3)


@chart
def waterfall(
    reference_value: float,
    effects: pd.Series,
    *,
    unit_name: str,
    labels: dict[str, str] | None = None,
    lang: str = "zh",
    value_label: str = "",
):
    """Zero-based waterfall of one unit from the reference value through each driver."""
    fig = new_figure(8.0, 4.0)
    ax = fig.add_subplot()
    names = [pretty_units(message("chart.reference", lang)), *((labels or {}).get(k, k) for k in effects.index),
             pretty_units(message("chart.actual", lang))]  # fmt: skip
    _waterfall_on(ax, reference_value, effects, [pretty_units(n) for n in names])
    ax.set_xlabel(pretty_units(value_label))
    ax.set_title(pretty_units(message("chart.gap_title", lang, unit=unit_name)))
    _plain(ax, y=False)
    return fig


@chart
def waterfall_panel(
    gaps: pd.DataFrame,
    *,
    labels: dict[str, str] | None = None,
    output_unit: str = "m2",
    lang: str = "zh",
):
    """One zero-based waterfall per district side by side (shared driver axis).

    ``gaps``: ``district``, ``driver``, ``effect``, ``reference_value`` (one row per
    district and driver, as :func:`costperf.decompose.cells.group_effects` gives).
    """
    districts = list(dict.fromkeys(gaps["district"]))
    fig = new_figure(min(3.0 * len(districts), 15.0) + 1.5, 4.0)
    axes = fig.subplots(1, len(districts), sharey=True, squeeze=False)[0]
    top = 0.0
    for ax, district in zip(axes, districts, strict=True):
        rows = gaps[gaps["district"] == district]
        effects = rows.set_index("driver")["effect"]
        names = [pretty_units(message("chart.reference", lang)), *((labels or {}).get(k, k) for k in effects.index),
                 pretty_units(message("chart.actual", lang))]  # fmt: skip
        _waterfall_on(ax, float(rows["reference_value"].iloc[0]), effects,
                      [pretty_units(n) for n in names])  # fmt: skip
        ax.set_title(str(district), fontsize=11)
        top = max(top, ax.get_xlim()[1])
        _plain(ax, y=False)
    for ax in axes:
        ax.set_xlim(0, top)
    fig.suptitle(pretty_units(message("chart.panel_title", lang, u=output_unit)), fontsize=12)
    fig.supxlabel(pretty_units(message("chart.unit_cost", lang, u=output_unit)), fontsize=10)
    return fig


@chart
def efficiency_bars(
    scores: pd.DataFrame,
    *,
    id_column: str,
    score: str,
    group: str | None = None,
    lang: str = "zh",
    label_lowest: int = 5,
):
    """DEA scores as a distribution per group (box and dots), the least efficient
    contracts labelled by their id."""
    fig = new_figure(8.5, 4.2)
    ax = fig.add_subplot()
    frame = scores.dropna(subset=[score])
    names = sorted(frame[group].unique(), key=natural_key) if group else [None]
    rng = np.random.default_rng(0)
    for i, name in enumerate(names):
        part = frame if name is None else frame[frame[group] == name]
        ax.boxplot([part[score].to_numpy(float)], positions=[i], widths=0.5, showfliers=False)
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(part)), part[score], s=16,
                   color=f"C{i}", alpha=0.8, zorder=3)  # fmt: skip
    low = frame.nsmallest(label_lowest, score).sort_values(score, ascending=False)
    stacked: dict[object, int] = {}
    for _, row in low.iterrows():
        i = names.index(row[group]) if group else 0
        k = stacked[i] = stacked.get(i, -1) + 1  # labels of one group stacked downwards
        ax.annotate(str(row[id_column]), (i, row[score]), fontsize=7, xytext=(14, -11 * k),
                    textcoords="offset points", va="center",
                    arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6})  # fmt: skip
    ax.set_xticks(range(len(names)), [str(n) if n is not None else "" for n in names])
    bottom = float(frame[score].min()) if len(frame) else 0.0
    ax.set_ylim(max(0.0, min(0.5, bottom - 0.1)), 1.03)
    ax.set_ylabel(pretty_units(message("chart.efficiency", lang)))
    ax.set_title(pretty_units(message("chart.frontier_title", lang)))
    ax.grid(axis="y", alpha=0.3)
    _plain(ax, x=False, decimals=1)
    return fig


@chart
def frontier_scatter(
    scores: pd.DataFrame,
    *,
    input_total: pd.Series,
    output: pd.Series,
    score: str = "efficiency",
    input_label: str = "",
    output_label: str = "",
    lang: str = "zh",
):
    """Each unit's total input against its output, shaded by its DEA score; the units on
    the frontier (score 1) are starred and joined in order of output (with one input and
    one output, that line is the VRS frontier itself)."""
    fig = new_figure(7.5, 5.0)
    ax = fig.add_subplot()
    dots = ax.scatter(
        output, input_total, c=scores[score], cmap="viridis_r", vmin=0.5, vmax=1.0, s=22
    )
    fig.colorbar(dots, ax=ax, label=pretty_units(message("chart.efficiency", lang)))
    on = (scores[score] >= 1 - 1e-9).to_numpy()
    order = np.argsort(output.to_numpy()[on])
    ax.plot(
        output.to_numpy()[on][order],
        input_total.to_numpy()[on][order],
        marker="*",
        markersize=11,
        color="C3",
        linewidth=1,
        label=pretty_units(message("chart.efficient", lang)),
    )
    ax.set_xlabel(pretty_units(output_label))
    ax.set_ylabel(pretty_units(input_label))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(pretty_units(message("chart.frontier_scatter", lang)), fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    _plain(ax)
    return fig


@chart
def expected_scatter(
    units: pd.DataFrame,
    *,
    actual: str,
    expected: str,
    group: str | None = None,
    output_unit: str = "m2",
    lang: str = "zh",
):
    """Actual against regression-expected unit cost, one dot per unit, with the diagonal."""
    fig = new_figure(6.5, 5.5)
    ax = fig.add_subplot()
    groups = sorted(units[group].unique(), key=natural_key) if group else [None]
    for i, name in enumerate(groups):
        part = units if name is None else units[units[group] == name]
        ax.scatter(part[expected], part[actual], s=18, color=f"C{i}", label=name)
    both = pd.concat([units[expected], units[actual]])
    lo, hi = float(both.min()), float(both.max())
    ax.plot([lo, hi], [lo, hi], color="0.4", linewidth=1, linestyle="--")
    ax.set_xlabel(pretty_units(message("chart.expected", lang, u=output_unit)))
    ax.set_ylabel(pretty_units(message("chart.actual_uc", lang, u=output_unit)))
    ax.set_title(pretty_units(message("chart.expected_title", lang)), fontsize=10)
    if group:
        ax.legend(fontsize=8)
    _plain(ax, decimals=0)
    return fig


def chart_titles(lang: str) -> Sequence[str]:
    """All fixed chart texts in ``lang``, their placeholders unfilled (for glyph tests):
    the labels.csv messages ``chart.*``."""
    templates = code_label_map("message", "zh" if lang == "zh" else "en")
    return [pretty_units(text) for code, text in templates.items() if code.startswith("chart.")]


@chart
def cut_bars(groups: pd.DataFrame, *, label: str, title: str, lang: str = "zh", top: int = 15):
    """Horizontal bars of the cut and the approved amount per group (largest cut first).

    ``groups`` has ``group``, ``approved`` and ``cut`` [yuan]; ``label`` names the axis.
    """
    shown = groups.sort_values("cut", ascending=False).head(top).iloc[::-1]
    fig = new_figure(8.0, max(2.5, 0.38 * len(shown) + 1.2))
    ax = fig.add_subplot()
    names = shown["group"].astype(str)
    wan = 1e4 if lang == "zh" else 1.0
    ax.barh(
        names,
        shown["approved"] / wan,
        color="C0",
        label=pretty_units(message("chart.approved", lang)),
    )
    ax.barh(
        names,
        shown["cut"] / wan,
        left=shown["approved"] / wan,
        color="C3",
        label=pretty_units(message("chart.cut", lang)),
    )
    for y, (a, c, r) in enumerate(
        zip(shown["approved"], shown["cut"], shown["cut_rate"], strict=True)
    ):
        rate = "" if pd.isna(r) else f" {r:.1%}"
        ax.annotate(rate, ((a + c) / wan, y), va="center", fontsize=8)
    ax.set_xlabel(pretty_units(message("chart.cut_axis", lang)))
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    _plain(ax, y=False)
    return fig


@chart
def rate_histogram(rates: pd.Series, *, title: str, lang: str = "zh"):
    """Distribution of project cut rates (0 to 100 %), 20 bins."""
    fig = new_figure(7.0, 3.8)
    ax = fig.add_subplot()
    ax.hist(rates.dropna() * 100, bins=np.linspace(0, 100, 21), color="C0", edgecolor="white")
    ax.set_xlabel(pretty_units(message("chart.rate_axis", lang)))
    ax.set_ylabel(pretty_units(message("chart.projects", lang)))
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return fig
