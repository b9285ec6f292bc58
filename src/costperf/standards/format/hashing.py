"""Content hash of a table version, independent of row and column order and number
spelling, so an edited published table is caught."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import pandas as pd

from costperf.schemas import LOCATION
from costperf.standards.format.schema import UNHASHED_KEYS


def _canonical_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip()
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    return format(number.normalize(), "f")


def _canonical_header(value: object) -> object:
    if isinstance(value, dict):
        return {k: _canonical_header(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_header(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content_hash(
    header: Mapping[str, object], raw: pd.DataFrame, *, extra: Mapping[str, str] | None = None
) -> str:
    """Fingerprint of a table version: ``'sha256:<hex>'``.

    Covers the header (except :data:`UNHASHED_KEYS`) and every value cell, independent
    of row order, column order, blank columns, line endings and number spelling
    (``500`` = ``500.0``); ``extra`` adds digests of side files (peer rows).
    """
    head = {k: _canonical_header(v) for k, v in header.items() if k not in UNHASHED_KEYS}
    cols = sorted(c for c in raw.columns if c not in LOCATION)
    # each column's cells canonical at once, then row by row (iterrows built a Series a row)
    cells = [[_canonical_cell(v) for v in raw[c].tolist()] for c in cols]
    rows = sorted(
        json.dumps(
            {c: cell for c, cell in zip(cols, row, strict=True) if cell},
            ensure_ascii=False,
            sort_keys=True,
        )
        for row in (zip(*cells, strict=True) if cols else [()] * len(raw))
    )
    payload = json.dumps(
        {"header": head, "values": rows, "extra": dict(extra or {})},
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()
