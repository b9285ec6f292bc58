"""A CJK font for matplotlib, so Chinese labels render as glyphs, not boxes.

Search order: a system font (Noto Sans CJK, WenQuanYi, Source Han, SimHei ...), then the
Noto Sans CJK SC shipped inside the ``mplfonts`` package (a dependency), so a fresh
``pip install`` renders Chinese without any system package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

PREFERRED = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
BUNDLED = ("NotoSansCJKsc-Regular.otf", "SimHei.ttf")


def bundled_fonts_folder() -> Path | None:
    """The ``fonts`` folder of the ``mplfonts`` package, found without importing it
    (its ``__init__`` imports matplotlib: 0.1 s a page only needs a file path for)."""
    from importlib.util import find_spec

    spec = find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def _bundled_font_files() -> list[Path]:
    folder = bundled_fonts_folder()
    if folder is None:
        return []
    return [folder / name for name in BUNDLED if (folder / name).is_file()]


@cache
def cjk_font_name() -> str | None:
    """Register and return the family name of a CJK font, or None if none is found."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in PREFERRED:
        if name in installed:
            return name
    for path in _bundled_font_files():
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    return None


def use_cjk_font() -> str | None:
    """Configure matplotlib (Agg backend) for Chinese labels; return the font used."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import rcParams

    name = cjk_font_name()
    if name is not None:
        rcParams["font.family"] = "sans-serif"
        rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False
    return name


#: matplotlib's warning for a character the font lacks (the tests make it an error)
MISSING_GLYPH = r"Glyph \d+ .*missing from font"


@contextmanager
def missing_glyphs_quiet() -> Iterator[None]:
    """Within: a character the bundled CJK font lacks (an emoji in a district name) is
    drawn as an empty box without matplotlib's warning on stderr; the data are shown as
    they are, in the tables too. For the program (``costperf.cli.main``, the chart
    worker); the chart tests keep the warning, to catch a label the font cannot show."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", MISSING_GLYPH, UserWarning)
        yield
