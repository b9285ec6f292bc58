"""Embed the CJK font a page needs: a subset of the bundled Noto Sans CJK SC, base64.

A report opened on a machine without any CJK font would show every Chinese character
as a box. :func:`embed_font` adds an ``@font-face`` holding only the characters the page
uses (plus printable ASCII), subset with fontTools from the Noto Sans CJK SC that the
``mplfonts`` dependency ships, as WOFF in a data URI; the page's CSS names that face
first (:data:`FONT_STACK`).

Subsetting takes most of a second, so each subset is kept in memory for the process
and on disk in the user cache folder (:mod:`costperf.io.cache`), keyed by the font
file's content, the fontTools version, the options and the characters.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

#: family name of the embedded face; the pages' CSS lists it first.
FAMILY = "CostperfCJK"
FONT_STACK = f'"{FAMILY}","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif'
FONT_FILE = "NotoSansCJKsc-Regular.otf"
_ASCII = frozenset(chr(i) for i in range(32, 127))
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)


def font_path() -> Path:
    """The bundled Noto Sans CJK SC (OpenType/CFF) inside the ``mplfonts`` package."""
    from costperf.report.fonts import bundled_fonts_folder

    folder = bundled_fonts_folder()
    path = Path("mplfonts") if folder is None else folder / FONT_FILE
    if not path.is_file():  # pragma: no cover - the dependency ships it
        msg = f"{FONT_FILE} not found in the mplfonts package"
        raise FileNotFoundError(msg)
    return path


def page_characters(pages: Iterable[str]) -> frozenset[str]:
    """The characters a page shows: its text and attribute values, ASCII always."""
    import html

    chars: set[str] = set(_ASCII)
    for page in pages:
        visible = _TAGS.sub(" ", page) + " ".join(re.findall(r'(?:alt|title)="([^"]*)"', page))
        chars.update(html.unescape(visible))
    return frozenset(c for c in chars if c.isprintable() or c == " ")


#: changes whenever :func:`make_subset` makes different bytes from the same input
SUBSET_RECIPE = "woff; no layout features; notdef outline; no hinting; desubroutinized"


@lru_cache(maxsize=8)
def subset_font(chars: frozenset[str]) -> bytes:
    """WOFF bytes of the bundled font reduced to ``chars`` (glyphs only, no layout);
    from the cache when the same subset was made before."""
    import fontTools

    from costperf.io.cache import cache_key, cached_bytes

    path = font_path()
    key = cache_key(
        [
            _font_digest(path),
            fontTools.version,
            SUBSET_RECIPE,
            "".join(sorted(chars)),
        ]
    )
    return cached_bytes(
        "font-subsets", key, lambda: make_subset(path, chars), valid=_is_woff, suffix=".woff"
    )


def _is_woff(data: bytes) -> bool:
    """A whole WOFF file: its signature and the total length its header gives."""
    return (
        len(data) >= 44 and data[:4] == b"wOFF" and int.from_bytes(data[8:12], "big") == len(data)
    )


@lru_cache(maxsize=4)
def _digest_of(path: Path, size: int, mtime_ns: int) -> str:  # noqa: ARG001 - the memo key
    from costperf.io.cache import file_digest

    return file_digest(path)


def _font_digest(path: Path) -> str:
    status = path.stat()
    return _digest_of(path, status.st_size, status.st_mtime_ns)


def make_subset(path: Path, chars: frozenset[str]) -> bytes:
    """Subset the font at ``path`` to ``chars`` with fontTools (see :func:`subset_font`)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"  # zlib-compressed; WOFF2 would need brotli
    options.layout_features = []
    options.notdef_outline = True
    # no hints and no CFF subroutines: the subset is made in about half the time and is
    # about a fifth smaller (421 characters of the case report: 1.45 -> 0.80 s CPU,
    # 68 -> 55 KB); browsers render CJK at screen sizes without the hints
    options.hinting = False
    options.desubroutinize = True
    buf = io.BytesIO()
    # the font's own timestamp, not the time of saving: the same characters give the
    # same bytes (the worker's report equals the in-process one, byte for byte)
    with TTFont(str(path), lazy=True, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(ord(c) for c in chars))
        subsetter.subset(font)
        font.flavor = options.flavor
        font.save(buf)
    return buf.getvalue()


def font_face_css(chars: frozenset[str]) -> str:
    """The ``@font-face`` rule of the subset font for ``chars`` (a data URI)."""
    data = base64.b64encode(subset_font(chars)).decode("ascii")
    return (
        f'@font-face{{font-family:"{FAMILY}";font-style:normal;font-weight:400 700;'
        f'font-display:block;src:url(data:font/woff;base64,{data}) format("woff")}}'
    )


def embed_fonts(pages: Sequence[str]) -> list[str]:
    """Each page with one ``@font-face`` (one subset covering all of them) in its head.

    The rule goes before the first ``</style>`` (or, with no style, before ``</head>``).
    """
    if not pages:
        return []
    rule = font_rule(pages)
    return [with_font_rule(page, rule) for page in pages]


def font_rule(pages: Iterable[str]) -> str:
    """The ``@font-face`` rule of one subset covering every page of ``pages``."""
    return font_face_css(page_characters(pages))


def with_font_rule(page: str, rule: str) -> str:
    """``page`` with the ``@font-face`` ``rule`` in its head (see :func:`embed_fonts`)."""
    if "</style>" in page:
        return page.replace("</style>", rule + "</style>", 1)
    return page.replace("</head>", f"<style>{rule}</style></head>", 1)


def with_font_link(page: str, href: str) -> str:
    """``page`` linking the stylesheet ``href`` that holds the ``@font-face`` rule.

    Many pages in one folder share one rule this way (the review forms: 100,000 forms
    with the rule in each were 5.3 GB). The rule keeps its data URI: Chromium refuses a
    font file loaded by a ``file://`` page, but not a data URI in a linked stylesheet.
    The link goes before the page's own style, so the font starts loading first.
    """
    link = f'<link rel="stylesheet" href="{href}">'
    if "<style>" in page:
        return page.replace("<style>", link + "<style>", 1)
    return page.replace("</head>", link + "</head>", 1)


def embed_font(page: str) -> str:
    """One page with its font embedded (see :func:`embed_fonts`)."""
    return embed_fonts([page])[0]
