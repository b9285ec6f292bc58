"""``costperf decompose DATA --target unit_cost --drivers a,b,c -o OUT``: gap decomposition.

Each unit's gap to a reference (the peer median or mean, one unit, or the median of one
group) is split into one exact effect per driver with
:func:`costperf.decompose.gap.decompose_gap` (LMDI additive or multiplicative, Shapley).

The target must be the product of the drivers up to a constant scale (unit cost =
wage x staffing x frequency / 10000): the scale is estimated as the median of
``target / product`` (or given with ``--scale``), and a unit whose target differs from
``scale x product`` is reported; the library's ``residual`` driver carries the difference,
so the effects still add up to the gap exactly.

Output: one row per unit and driver with the effect, its share of the gap, the
identity deviation (``target / (scale x product) - 1``) and the effects check (effects sum
minus gap; for the multiplicative method product of effects / ratio - 1).  With
``--group`` a second table holds the group means (``.xlsx``: a second sheet; else
``OUT-stem_groups.<suffix>``).
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from costperf.commands._tables import (
    display,
    input_arguments,
    output_arguments,
    resolve_columns,
    shown_name,
    split_names,
    write_tables,
)
from costperf.labels import message

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

METHODS = ("lmdi_additive", "lmdi_multiplicative", "shapley")
STATISTIC_NAMES = {"median": "中位数", "mean": "均值", "geomean": "几何均值"}

EPILOG = """\
examples:
  costperf decompose units.csv --target unit_cost \\
      --drivers wage_per_cleaner,staffing_per_10k_m2_sweep,sweeps_per_day,overhead_factor \\
      --id project_id --group district -o gap.xlsx
  costperf decompose units.xlsx --target 单位成本 --drivers 人均工资,人员配置强度 \\
      --reference unit:P003 --method shapley -o gap.csv
  costperf decompose units.csv --target unit_cost --drivers a,b \\
      --reference group:district=青浦 -o gap.csv

--reference: median (default), mean, geomean, pNN (e.g. p25) of all units; unit:<id>
(one unit); group:<column>=<value> (the --statistic of that group's units).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``decompose`` and its options."""
    p = subparsers.add_parser(
        "decompose",
        help="gap decomposition by cost driver (差异分解: LMDI / Shapley)",
        description="Split each unit's gap to a reference into exact driver effects "
        "(差异分解): additive or multiplicative LMDI-I (Ang 2004), or Shapley. Reads one "
        "table (CSV, XLSX or Parquet) with one row per unit.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    input_arguments(p)
    p.add_argument("--target", required=True, help="unit-cost column (the product of drivers)")
    p.add_argument("--drivers", required=True, help="driver columns, comma-separated")
    p.add_argument(
        "--id",
        default=None,
        help="unit id column (default: project_id if present, else the row number)",
    )
    p.add_argument(
        "--reference",
        default="median",
        help="median, mean, geomean, pNN, unit:<id> or group:<column>=<value> (default median)",
    )
    p.add_argument(
        "--statistic",
        default="median",
        help="statistic of a group:<column>=<value> reference (default median)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="lmdi_additive",
        help="decomposition method (default lmdi_additive)",
    )
    p.add_argument("--group", default=None, help="column to average the effects by (district)")
    p.add_argument(
        "--by",
        default=None,
        help="compare units within cells of this column (e.g. road_grade): one reference "
        "per cell, as costperf run does; --reference must then be a statistic",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=None,
        help="target = scale x product of drivers (default: estimated as the median ratio)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-3,
        help="relative deviation from target = scale x product reported per row (default 0.001)",
    )
    output_arguments(p, "result file", run)


def run(args: argparse.Namespace) -> int:
    """Decompose, write the table(s), print a summary; return the exit status."""
    import math

    from costperf.decompose.gap import decompose_gap
    from costperf.errors import InputError
    from costperf.io import read_table

    if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
        msg = f"--tolerance {args.tolerance!r}: expected a number >= 0"
        raise InputError(msg)
    data = read_table(args.data, sheet=args.sheet, header_row=args.header_row)
    spec = _spec(args, data)
    units = _units(data, spec, args)
    scale = _scale(units, spec, args.scale, args.method)
    work = units.assign(**{spec["target"]: units[spec["target"]] / scale})
    if spec["by"] is not None:
        gap, described = _gap_by_cell(work, spec, args)
    else:
        reference, described = _reference(args, work, spec)
        gap = decompose_gap(
            work,
            reference,
            spec["drivers"],
            method=args.method,
            id_column=spec["id"],
            target=spec["target"],
        )
    gap = _rescale(gap, scale, args.method)
    deviation = _identity_deviation(units, spec, scale)
    gap = _with_checks(gap, units, spec, deviation, args.method)
    groups = _group_means(gap, spec["group"], args.method) if spec["group"] else None
    tables = _tables(gap, groups, spec, args.lang)
    written = write_tables(tables, args.output, args.lang)
    for line in _summary(gap, units, spec, scale, deviation, described, args, written):
        print(line)
    return 0


# --------------------------------------------------------------------------- inputs


def _spec(args: argparse.Namespace, data: pd.DataFrame) -> dict:
    """Resolve the named columns to the headers as written; raise naming missing ones."""
    from costperf.errors import InputError, raise_if_problems
    from costperf.schemas import concat_problems

    drivers = split_names(args.drivers, "--drivers")
    target = split_names(args.target, "--target")
    if len(target) != 1:
        msg = f"--target {args.target!r}: expected one column name"
        raise InputError(msg)
    wanted = [("--target", target), ("--drivers", drivers)]
    if args.id is not None:
        wanted.append(("--id", [args.id]))
    if args.group is not None:
        wanted.append(("--group", [args.group]))
    if args.by is not None:
        wanted.append(("--by", [args.by]))
    group_ref = _group_reference(args.reference)
    if group_ref is not None:
        wanted.append(("--reference", [group_ref[0]]))
    found, parts = {}, []
    for option, names in wanted:
        hit, problems = resolve_columns(data, names, option=option)
        found.update(hit)
        parts.append(problems)
    raise_if_problems(concat_problems(parts), str(args.data))
    id_col = found.get(args.id) if args.id is not None else _default_id(data)
    spec = {
        "target": found[target[0]],
        "drivers": [found[d] for d in drivers],
        "id": id_col,
        "group": found.get(args.group) if args.group else None,
        "by": found.get(args.by) if args.by else None,
        "group_reference": (found[group_ref[0]], group_ref[1]) if group_ref else None,
    }
    clash = set(spec["drivers"]) & {spec["target"], spec["id"], spec["group"]}
    if clash:
        msg = f"column(s) {', '.join(sorted(clash))} given as a driver and as another role"
        raise InputError(msg)
    return spec


def _default_id(data: pd.DataFrame) -> str | None:
    found, _ = resolve_columns(data, ["project_id"], option="--id")
    return found.get("project_id")


def _group_reference(text: str) -> tuple[str, str] | None:
    from costperf.errors import InputError
    from costperf.labels import error_text

    if not str(text).startswith("group:"):
        return None
    column, sep, value = str(text)[len("group:") :].partition("=")
    if not sep or not column.strip() or not value.strip():
        msg = error_text(
            "--reference {value}: expected group:<column>=<value>, e.g. group:district=青浦",
            value=repr(text),
        )
        raise InputError(msg)
    return column.strip(), value.strip()


def _units(data: pd.DataFrame, spec: dict, args: argparse.Namespace) -> pd.DataFrame:
    """Typed units: numbers parsed (blanks kept as NaN), ids and groups as text."""
    from costperf.errors import raise_if_problems
    from costperf.schemas import (
        check_unique,
        coerce_numeric,
        coerce_text,
        concat_problems,
        row_problems,
    )

    numeric = [*spec["drivers"], spec["target"]]
    frame, problems = coerce_numeric(data, numeric, allow_missing=True)
    parts = [problems]
    if args.method != "shapley":
        for column in numeric:
            low = frame[column] < 0
            expected = "a number >= 0 (LMDI takes logarithms; use --method shapley for signs)"
            parts.append(
                row_problems(frame, low, column, expected, "negative_for_lmdi", values=data[column])
            )
    text = [c for c in (spec["group"], spec["by"], (spec["group_reference"] or [None])[0]) if c]
    frame, text_problems = coerce_text(frame, text)
    parts.append(text_problems)
    if spec["id"] is not None:
        frame, id_problems = coerce_text(frame, [spec["id"]], required=[spec["id"]])
        parts += [id_problems, check_unique(frame, [spec["id"]], what=spec["id"])]
    raise_if_problems(_by_row(concat_problems(parts)), str(args.data))
    if spec["id"] is None:
        spec["id"] = "row"
        frame = frame.assign(row=frame["source_row"].astype(int))
    return frame


def _by_row(problems: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if problems.empty:
        return problems
    rows = pd.to_numeric(problems["source_row"], errors="coerce")
    return problems.iloc[rows.argsort(kind="stable")].reset_index(drop=True)


def _product(units: pd.DataFrame, drivers: list[str]) -> np.ndarray:
    import numpy as np

    return np.prod(units[drivers].to_numpy(dtype=float), axis=1)


def _scale(units: pd.DataFrame, spec: dict, given: float | None, method: str) -> float:
    """The constant in target = scale x product of drivers (median ratio unless given)."""
    import numpy as np

    from costperf.errors import InputError

    if given is not None:
        if not (np.isfinite(given) and given != 0):
            msg = f"--scale {given!r}: expected a non-zero number (target = scale x product)"
            raise InputError(msg)
        if given < 0 and method != "shapley":  # else every target turns negative for LMDI
            msg = (
                f"--scale {given!r}: expected a number > 0 (LMDI takes logarithms; use "
                "--method shapley for a negative scale)"
            )
            raise InputError(msg)
        return float(given)
    product = _product(units, spec["drivers"])
    target = units[spec["target"]].to_numpy(dtype=float)
    usable = np.isfinite(product) & np.isfinite(target) & (product != 0) & (target != 0)
    if not usable.any():
        return 1.0
    scale = float(np.median(target[usable] / product[usable]))
    return scale if np.isfinite(scale) and scale != 0 else 1.0


def _identity_deviation(units: pd.DataFrame, spec: dict, scale: float) -> np.ndarray:
    """``target / (scale x product) - 1`` per unit (0 when both are 0, NaN if undefined)."""
    import numpy as np

    product = scale * _product(units, spec["drivers"])
    target = units[spec["target"]].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = target / product - 1.0
    deviation = np.where((product == 0) & (target == 0), 0.0, deviation)
    return np.where(np.isfinite(deviation), deviation, np.nan)


def _reference(args: argparse.Namespace, work: pd.DataFrame, spec: dict):
    """The reference for decompose_gap and a (zh, en) description of it."""
    from costperf.decompose.gap import peer_reference
    from costperf.errors import InputError

    text = str(args.reference).strip()
    drivers, target = spec["drivers"], spec["target"]
    if text.startswith("unit:"):
        wanted = text[len("unit:") :].strip()
        ids = work[spec["id"]].astype(str)
        if not (ids == wanted).any():
            listing = ", ".join(ids.head(10)) + (" ..." if len(ids) > 10 else "")
            msg = (
                f"--reference {text!r}: no unit '{wanted}' in column '{spec['id']}' of "
                f"{args.data}; ids are: {listing}"
            )
            raise InputError(msg)
        key = work.loc[ids == wanted, spec["id"]].iloc[0]
        return key, tuple(
            message("decompose.reference_unit", lang, unit=wanted) for lang in ("zh", "en")
        )
    if spec["group_reference"] is not None:
        column, value = spec["group_reference"]
        members = work[work[column].astype(str) == value]
        if members.empty:
            values = sorted(work[column].dropna().astype(str).unique())
            msg = (
                f"--reference {text!r}: no row of {args.data} has '{value}' in column "
                f"'{column}'; values are: {', '.join(values[:20])}"
            )
            raise InputError(msg)
        ref = peer_reference(members, drivers, statistic=args.statistic, target=target)
        return ref, tuple(
            message(
                "decompose.reference_group",
                lang,
                column=column,
                value=value,
                n=len(members),
                statistic=_statistic_words(args.statistic, lang),
            )
            for lang in ("zh", "en")
        )
    ref = peer_reference(work, drivers, statistic=text, target=target)
    return ref, tuple(
        message("decompose.reference_all", lang, statistic=_statistic_words(text, lang))
        for lang in ("zh", "en")
    )


def _gap_by_cell(work: pd.DataFrame, spec: dict, args: argparse.Namespace):
    """Each unit against its ``--by`` cell's reference (the same function as the run)."""
    from costperf.decompose.cells import gap_by_cell
    from costperf.errors import InputError
    from costperf.params import GapParams

    statistic = str(args.reference).strip()
    if statistic.startswith(("unit:", "group:")):
        msg = f"--by {args.by}: --reference must be a statistic (median, mean, pNN), got {statistic!r}"
        raise InputError(msg)
    params = GapParams(drivers=tuple(spec["drivers"]), method=args.method, statistic=statistic)
    gap, _ = gap_by_cell(
        work, [spec["by"]], params, id_column=spec["id"], target=spec["target"], group=""
    )
    by = shown_name(spec["by"], args.lang)
    return gap, tuple(
        message(
            "decompose.reference_within", lang, by=by, statistic=_statistic_words(statistic, lang)
        )
        for lang in ("zh", "en")
    )


def _statistic_words(statistic: str, lang: str) -> str:
    """A reference statistic in words: under zh 中位数, 第25百分位数 (labels.csv); under
    en its code as given (``median``, ``p25``)."""
    if lang != "zh":
        return statistic
    if statistic in STATISTIC_NAMES:
        return STATISTIC_NAMES[statistic]
    match = re.fullmatch(r"p(\d+(?:\.\d+)?)", statistic)
    return message("case_report.percentile", "zh", n=match.group(1)) if match else statistic


# --------------------------------------------------------------------------- results


def _rescale(gap: pd.DataFrame, scale: float, method: str) -> pd.DataFrame:
    """Undo the target scaling: values (and additive effects) back in target units."""
    from costperf.decompose.cells import rescale_gap

    out = rescale_gap(gap, scale, method)
    out["note"] = out["note"].str.replace(
        "target / product of drivers", "target / (scale x product of drivers)", regex=False
    )
    return out


def _with_checks(
    gap: pd.DataFrame, units: pd.DataFrame, spec: dict, deviation, method: str
) -> pd.DataFrame:
    """Add the identity deviation, effects check, group and source row per unit."""
    import numpy as np

    keyed = units.set_index(spec["id"])
    per_unit = gap.groupby("unit", sort=False)
    if method == "lmdi_multiplicative":
        check = per_unit["effect"].transform(lambda e: np.prod(e.to_numpy())) / gap["ratio"] - 1
    else:
        check = per_unit["effect"].transform("sum") - gap["gap"]
    out = gap.assign(
        identity_deviation=gap["unit"]
        .map(dict(zip(units[spec["id"]], deviation, strict=True)))
        .astype(float),
        effects_check=check.astype(float),
    )
    out.insert(1, "source_row", gap["unit"].map(keyed["source_row"]).to_numpy())
    if spec["group"]:
        out.insert(1, spec["group"], gap["unit"].map(keyed[spec["group"]]).to_numpy())
    return out


def _group_means(gap: pd.DataFrame, group: str, method: str) -> pd.DataFrame:
    """Per group and driver: the mean effect (geometric for factors), mean value and gap,
    by :func:`costperf.decompose.cells.group_effects` (the same as ``costperf run``)."""
    import numpy as np

    from costperf.columns import sort_natural
    from costperf.decompose.cells import group_effects

    table = group_effects(gap, group, method).rename(columns={"unit_value": "unit_value_mean"})
    if method == "lmdi_multiplicative":
        table = table.rename(columns={"effect": "effect_geomean", "ratio": "ratio_geomean"})
        middle = ["effect_geomean", "ratio_geomean"]
    else:
        table = table.rename(columns={"effect": "effect_mean", "gap": "gap_mean"})
        with np.errstate(divide="ignore", invalid="ignore"):
            gap_mean = table["gap_mean"].where(table["gap_mean"] != 0)
            table["effect_share"] = table["effect_mean"] / gap_mean
        middle = ["effect_mean", "gap_mean", "effect_share"]
    columns = [group, "n_units", "driver", *middle, "unit_value_mean", "reference_value"]
    order = {d: i for i, d in enumerate(dict.fromkeys(gap["driver"]))}
    table = table.assign(_order=table["driver"].map(order)).sort_values("_order", kind="stable")
    return sort_natural(table[[*columns, "_order"]].drop(columns="_order"), [group]).reset_index(
        drop=True
    )


def _tables(gap, groups, spec: dict, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    from costperf.columns import code_label_map, message

    drivers = {d: shown_name(d, lang) for d in spec["drivers"]}
    drivers["residual"] = message("decompose.residual", lang)
    keep = {"unit": shown_name(spec["id"], lang) if spec["id"] != "row" else None}
    keep["unit"] = keep["unit"] or message("decompose.row", lang)
    if spec["group"]:
        keep[spec["group"]] = shown_name(spec["group"], lang)
    method = code_label_map("decompose_method", lang)
    shown = gap.assign(driver=gap["driver"].map(drivers), method=gap["method"].map(method))
    if lang == "zh":
        shown["note"] = shown["note"].map(_note_zh)
    tables = [("gap", message("decompose.gap_sheet", lang), display(shown, lang, keep))]
    if groups is not None:
        named = groups.assign(driver=groups["driver"].map(drivers))
        tables.append(
            ("groups", message("decompose.groups_sheet", lang), display(named, lang, keep))
        )
    return tables


_NOTES_ZH = [
    (r"missing value\(s\) in: ([^;]*); not decomposed", r"缺失值：\1；未分解"),
    (
        r"zero value\(s\) in: ([^;]*); δ → 0 limit of the small-value strategy \(Ang & Liu 2007\)",
        r"零值：\1；按小值策略取 δ → 0 极限（Ang & Liu 2007）",
    ),
    (
        r"residual factor = target / \(scale x product of drivers\)",
        "残差因子 = 目标值 / (比例系数 × 驱动因素之积)",
    ),
    (
        r"the target is not 0 but the product of the drivers is 0: residual undefined; "
        r"not decomposed",
        "目标值不为0但驱动因素之积为0：残差无定义；未分解",
    ),
]


def _note_zh(note: object) -> object:
    """Chinese rendering of the library's notes (unknown parts stay in English)."""
    if not isinstance(note, str) or not note:
        return note
    for pattern, replacement in _NOTES_ZH:
        note = re.sub(pattern, replacement, note)
    return note.replace("; ", "；")


# --------------------------------------------------------------------------- summary


def _summary(gap, units, spec, scale, deviation, described, args, written) -> list[str]:
    from costperf.columns import code_label, message
    from costperf.decompose.cells import decomposed

    lang = args.lang
    method = code_label("decompose_method", args.method, lang)
    n_units = gap["unit"].nunique()
    done = decomposed(gap, args.method)
    first = done.drop_duplicates("unit")
    reference = float(gap["reference_value"].iloc[0]) if len(gap) else float("nan")
    target = shown_name(spec["target"], lang)
    formula = {
        "target": target,
        "scale": scale,
        "drivers": " × ".join(shown_name(d, lang) for d in spec["drivers"]),
    }
    lines = [
        message(
            "decompose.summary",
            lang,
            n_units=n_units,
            method=method,
            described=described[0 if lang == "zh" else 1],
            target=target,
            reference=reference,
        ),
        message("decompose.formula", lang, **formula)
        if args.scale is not None
        else message("decompose.formula_median", lang, **formula),
    ]
    lines += _effect_lines(done, first, args)
    left_out = n_units - len(first)
    if args.method == "lmdi_multiplicative" and left_out:
        lines.append(message("decompose.left_out", lang, n=left_out))
    lines += _warning_lines(gap, units, spec, deviation, args.tolerance, lang)
    names = ", ".join(str(p) for p in written)
    lines.append(message("command.written", lang, files=names))
    return lines


def _effect_lines(done, first, args) -> list[str]:
    import numpy as np

    from costperf.columns import message

    lang = args.lang
    if first.empty:
        return [message("decompose.nothing", lang)]
    per_driver = done.groupby("driver", sort=False)["effect"]
    names = {d: shown_name(d, lang) for d in done["driver"].unique()}
    names["residual"] = message("decompose.residual", lang)
    if args.method == "lmdi_multiplicative":
        ratio = float(np.exp(np.log(first["ratio"]).mean()))
        lines = [message("decompose.ratio_effects", lang, ratio=ratio)]
        for driver, effects in per_driver:
            lines.append(f"  {names[driver]}: × {float(np.exp(np.log(effects).mean())):.4f}")
        return lines
    total = float(first["gap"].sum())
    lines = [
        message("decompose.gap_effects", lang, total=total, n=len(first), mean=total / len(first))
    ]
    for driver, effects in per_driver:
        value = float(effects.sum())
        share = f"{value / total + 0.0:.1%}" if total != 0 else "-"
        lines.append(f"  {names[driver]}: {value:+,.4g} ({share})")
    return lines


def _warning_lines(gap, units, spec, deviation, tolerance: float, lang: str) -> list[str]:
    import numpy as np

    from costperf.columns import message

    lines = []
    notes = gap.drop_duplicates("unit").set_index("unit")["note"]
    all_notes = gap.groupby("unit", sort=False)["note"].agg(" ".join)
    missing = all_notes[all_notes.str.contains("missing value", regex=False)].index
    zeros = all_notes[all_notes.str.contains("zero value", regex=False)].index
    undefined = notes[notes.str.contains("residual undefined", regex=False)].index
    if len(missing):
        lines.append(message("decompose.missing", lang, n=len(missing), units=_listing(missing)))
    if len(zeros):
        lines.append(message("decompose.zeros", lang, n=len(zeros), units=_listing(zeros)))
    if len(undefined):
        lines.append(
            message("decompose.undefined", lang, n=len(undefined), units=_listing(undefined))
        )
    off = np.abs(np.nan_to_num(deviation, nan=0.0)) > tolerance
    if off.any():
        rows = units.loc[off, "source_row"].astype(int).to_numpy()
        shown = ", ".join(
            message("decompose.row_deviation", lang, row=r, deviation=d)
            for r, d in zip(rows[:5], deviation[off][:5], strict=False)
        ) + (" ..." if off.sum() > 5 else "")
        lines.append(
            message(
                "decompose.off_product",
                lang,
                n=int(off.sum()),
                tolerance=tolerance,
                rows=shown,
            )
        )
    return lines


def _listing(ids) -> str:
    shown = ", ".join(str(i) for i in list(ids)[:5])
    return shown + (" ..." if len(ids) > 5 else "")


__all__ = ["add_parser", "run"]
