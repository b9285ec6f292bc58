"""The derived standard as a table version (standards format), and writing it."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.columns import code_label, label, message
from costperf.errors import InputError
from costperf.standards.derive.statistic import STANDARD_COLUMNS

#: the issuer of a derived table (labels.csv ``derive.issuer``): the table is Chinese, so
#: it stores the Chinese words; a page in English shows the English ones
ISSUER = message("derive.issuer", "zh")


@dataclass(frozen=True, eq=False)
class DerivedTable:
    """A derived standard table version, ready for :func:`write_derived_table`.

    Attributes
    ----------
    header
        TOML header (status draft, kind unit_cost, ``[source]`` method + parameters +
        data hash + the peer-rows file).
    raw
        Value rows: the dims, ``item``, ``value``, ``lower``, ``upper``, ``unit``, ``note``.
    peer_rows
        The peer rows used and excluded (written next to the header; hashed with it).
    stem
        File stem, ``<table_id>-v<version>``.
    """

    header: dict[str, object]
    raw: pd.DataFrame
    peer_rows: pd.DataFrame
    stem: str

    @property
    def ref(self) -> str:
        return f"{self.header['table_id']}@{self.header['version']}"


def _toml_safe(value: object) -> object:
    """Parameters as TOML can hold them: no None/NaN, lists for tuples."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if _keep(v)}
    if isinstance(value, list | tuple):
        return [_toml_safe(v) for v in value if _keep(v)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _keep(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def table_id_of(standard_id: str) -> str:
    """A standard id as a table id: lower case, digits and '-' (``HW-UC`` -> ``hw-uc``)."""
    text = re.sub(r"[^a-z0-9-]+", "-", str(standard_id).lower()).strip("-")
    return text or "derived-unit-cost"


def build_standard_table(
    standard: pd.DataFrame,
    *,
    dims: Sequence[str],
    table_id: str,
    version: int,
    title: str,
    effective_from: dt.date,
    peer_rows: pd.DataFrame,
    unit: str = "",
    class_of_matter: str = "",
    issuer: str = ISSUER,
    dim_labels: Mapping[str, str] | None = None,
    dim_labels_en: Mapping[str, str] | None = None,
    item_label: str = "",
    decimals: int = 2,
    standard_ref: str = "",
) -> DerivedTable:
    """Lay out a derived standard as a table version in the standards format.

    Parameters
    ----------
    standard
        One row per cell with the ``dims``, ``value``, ``lower``, ``upper``, ``rule``,
        ``method``, ``parameters`` (JSON), ``data_hash``, ``n_peers``, ``n_excluded``
        (as :func:`standard_frame` or :func:`derive_unit_cost_standard` give).
    version
        Whole number >= 1 (standard tables number their versions).
    peer_rows
        The provenance rows of the chosen rule (see :func:`rule_provenance`).
    dim_labels, dim_labels_en
        Chinese and English labels of the dimensions (default: the data model's,
        ``columns.csv``).
    item_label
        Chinese label of the item (default: labels.csv ``derive.item``).
    decimals
        Values are rounded half-up to this many decimals. [yuan per output unit]
    standard_ref
        The derivation's own name for the standard, ``id@version`` (case.toml
        ``[standard] id`` and ``version``, e.g. ``HW-UC@2026.1``): kept as
        ``[source] standard``, so records naming either can be matched.

    Returns
    -------
    DerivedTable
        Status ``draft``, kind ``unit_cost``; ``[source]`` holds the method, the
        parameters, the data hash and the peer-rows file name. ``lower``/``upper``
        (the peer band) are kept only where they hold the value.
    """
    dims = list(dims)
    stem = f"{table_id}-v{version}"
    labels = dict(dim_labels or {})
    labels_en = dict(dim_labels_en or {})

    def rounded(x: float) -> float:
        return round_half_up(x, decimals)

    values = standard["value"].map(rounded)
    lower = standard["lower"].map(lambda x: rounded(x) if pd.notna(x) else np.nan)
    upper = standard["upper"].map(lambda x: rounded(x) if pd.notna(x) else np.nan)
    holds = (lower <= values) & (values <= upper)
    raw = pd.DataFrame(
        {
            **{d: standard[d].astype(str).to_numpy() for d in dims},
            "item": "unit_cost",
            "value": values.to_numpy(),
            "lower": lower.where(holds).to_numpy(),
            "upper": upper.where(holds).to_numpy(),
            "unit": unit,
            "note": [  # the table's own words (Chinese): an English page translates them
                message("derive.line_note", "zh", n=int(n), excluded=int(x))
                for n, x in zip(standard["n_peers"], standard["n_excluded"], strict=True)
            ],
        }
    )
    rule = str(standard["rule"].iloc[0])
    parameters = _toml_safe(json.loads(standard["parameters"].iloc[0]))
    methods = list(dict.fromkeys(standard["method"]))
    used = standard["n_peers"]  # the contracts each value uses
    cells = list(zip(standard["dims"].astype(str), used.astype(int), strict=True))
    screen = str(parameters.get("outlier_rule", "none"))
    notes = {lang: _notes(rule, screen, cells, lang) for lang in ("zh", "en")}
    header = {
        "table_id": table_id,
        "version": int(version),
        "status": "draft",
        "kind": "unit_cost",
        "title": message("derive.title", "zh", name=title),
        "title_en": message(
            "derive.title", "en", name=message("derive.table_name", "en", table_id=table_id)
        ),
        "issuer": issuer,
        **({"class_of_matter": class_of_matter} if class_of_matter else {}),
        "effective_from": effective_from,
        "notes": notes["zh"],
        "notes_en": notes["en"],
        "source": {
            "method": f"derive:{rule}",
            "note": " | ".join(methods),
            "parameters": parameters,
            "data_hash": str(standard["data_hash"].iloc[0]),
            "peer_rows": f"{stem}.peers.csv",
            **({"standard": standard_ref} if standard_ref else {}),
        },
        "dimensions": {
            d: {
                "label_zh": labels.get(d) or label(d, "zh"),
                "label_en": labels_en.get(d) or label(d, "en"),
                "values": list(dict.fromkeys(standard[d].astype(str))),
            }
            for d in dims
        },
        "items": {
            "unit_cost": {
                "label_zh": item_label or message("derive.item", "zh", matter=""),
                "label_en": message("derive.item", "en", matter="").strip(),  # no matter: English
            }
        },
        "layout": {"rows": dims or ["item"], "columns": ["item"] if dims else []},
    }
    if not dims:
        del header["layout"]
    return DerivedTable(header, raw, peer_rows.reset_index(drop=True), stem)


def _notes(rule: str, screen: str, cells: Sequence[tuple[str, int]], lang: str) -> list[str]:
    """A derived table's notes in ``lang`` (labels.csv): the rule, the outlier screen
    ``screen`` and the contracts each cell used."""
    named = code_label("derive_rule", rule, lang)
    outlier = (
        message("derive.note_unscreened", lang)
        if screen == "none"
        else message("derive.note_screened", lang, rule=code_label("outlier_rule", screen, lang))
    )
    used = message("list.enumeration", lang).join(
        message("derive.note_cell", lang, cell=d, n=n) for d, n in cells
    )
    return [
        message("derive.note_draft", lang, rule=named),
        message("derive.note_method", lang, rule=named, outlier=outlier, cells=used),
        message("derive.note_peers", lang),
    ]


def round_half_up(value: float, decimals: int = 2) -> float:
    """Round as a published table does: half-up on the decimal digits shown."""
    from decimal import ROUND_HALF_UP, Decimal

    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def round_half_up_values(values: object, decimals: int = 2) -> object:
    """:func:`round_half_up` over an array or Series at once (a Series stays one).

    Half-up (away from zero at .5) on the decimal value the float stands for: a product
    such as 7.85 x 10000.5 = 78503.925, held as 78503.92499999999, rounds to 78503.93
    (numpy's ``round`` gives .92). The binary error absorbed is 1e-13 of the value, far
    below a fen for any amount a budget holds and far above the error of a product of a
    few factors.
    """
    x = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    scaled = np.abs(x) * scale
    rounded = np.copysign(np.floor(scaled + 0.5 + scaled * 1e-13), x) / scale
    rounded = rounded + 0.0  # -0.0 -> 0.0
    if isinstance(values, pd.Series):
        return pd.Series(rounded, index=values.index, name=values.name)
    return rounded


def as_published(standard: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """Values as the published table states them (0.01 yuan, half-up).

    The review applies these, so an auditor can recompute every cut from the published
    table. The unrounded figures stay in ``value_exact``, ``lower_exact`` and
    ``upper_exact``.
    """
    out = standard.copy()
    for col in ("value", "lower", "upper"):
        out[f"{col}_exact"] = out[col]
        out[col] = out[col].map(lambda x: round_half_up(x, decimals) if pd.notna(x) else x)
    return out


def write_derived_table(table: DerivedTable, folder: str | Path) -> tuple[Path, Path, Path]:
    """Write the header, values and peer rows of a derived table into ``folder``.

    Uses :func:`~costperf.standards.tables.write_table_version` (which never overwrites
    a version); the peer-rows file is written first, so the header never points at a
    missing file, and removed again if the version cannot be written.
    """
    from costperf.io import write_table
    from costperf.standards.tables import write_table_version

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    peers_path = folder / f"{table.stem}.peers.csv"
    if peers_path.exists():
        msg = (
            f"{peers_path}: already exists; a table version is never overwritten "
            "(choose another output folder or remove the draft first)"
        )
        raise InputError(msg)
    write_table(table.peer_rows, peers_path, lang="en")  # canonical, read back
    try:
        toml_path, csv_path = write_table_version(
            table.header,
            table.raw,
            folder,
            stem=table.stem,
            comment=f"Draft {table.ref} derived by costperf: {table.header['source']['method']}.",
        )
    except BaseException:
        peers_path.unlink(missing_ok=True)
        raise
    return toml_path, csv_path, peers_path


def standard_frame(
    values: pd.DataFrame,
    band: tuple[pd.DataFrame, pd.DataFrame] | None,
    *,
    dims: Sequence[str],
    standard_id: str,
    name: str,
    version: str,
    effective_from: dt.date,
    unit: str = "",
) -> pd.DataFrame:
    """A rule's values in the :data:`STANDARD_COLUMNS` shape the pipeline and review use.

    ``band`` gives the frames of the two band rules (e.g. p25 and p75 after screening)
    for ``lower``/``upper``; None leaves them NaN.
    """
    dims = list(dims)
    out = values.copy()
    if band is not None:
        for col, frame in zip(("lower", "upper"), band, strict=True):
            out = out.merge(
                frame[[*dims, "value"]].rename(columns={"value": col}), on=dims, how="left"
            )
    else:
        out["lower"] = out["upper"] = np.nan
    params = json.loads(out["parameters"].iloc[0]) if len(out) else {}
    return out.assign(
        standard_id=standard_id,
        version=version,
        name=name,
        kind="unit_cost",
        dims=["/".join(str(v) for v in row) for row in out[dims].itertuples(index=False)]
        if dims
        else "",
        unit=unit,
        outlier_rule=params.get("outlier_rule", ""),
        n_peers=out["n_used"],
        effective_from=effective_from.isoformat(),
        status="draft",
    ).reindex(columns=[*dims, *STANDARD_COLUMNS, "method_zh"])
