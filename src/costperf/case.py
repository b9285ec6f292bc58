"""Case configuration: ``cases/<name>/case.toml`` loaded into a frozen :class:`CaseConfig`.

A case names its data files and settings. Every key is checked: an unknown key or a
value of the wrong kind is an :class:`InputError` that names the key, the file and the
allowed values (exit status 2 at the CLI).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costperf.errors import InputError, located_error

AMOUNT_UNITS = {"元": 1.0, "yuan": 1.0, "万元": 1e4, "千元": 1e3}
STANDARD_RULES = ("median", "mean", "p25", "p75", "p10", "p90")
OUTLIER_RULES = ("iqr", "mad", "none")
TABLES = ("projects", "line_items", "outputs")
GAP_METHODS = ("lmdi_multiplicative", "lmdi_additive", "shapley")
GAP_REFERENCES = ("median", "mean", "geomean", "p25", "p75")
SE_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
FRONTIER_RTS = ("vrs", "crs", "drs", "irs", "fdh")
FRONTIER_ORIENTATIONS = ("in", "out")


@dataclass(frozen=True)
class TableSource:
    """Where one input table comes from, and how to read it."""

    path: Path
    sheet: str | None = None
    header_row: int | None = None
    amount_unit: str = "元"

    @property
    def amount_scale(self) -> float:
        return AMOUNT_UNITS[self.amount_unit]


@dataclass(frozen=True)
class StandardRule:
    """How the case derives its unit-cost standard from peers."""

    standard_id: str = "UC"
    name: str = "单位成本标准"
    rule: str = "median"
    outlier_rule: str = "iqr"
    effective_from: dt.date = dt.date(2026, 1, 1)
    version: str = "1"
    band: tuple[str, str] = ("p25", "p75")


@dataclass(frozen=True)
class ReviewRule:
    """How the case reviews new requests."""

    tolerance: float = 0.0
    review_date: dt.date | None = None
    adjust_by: str | None = None  # a variable: standard x (request / peer median) ** e
    adjust_elasticity: float = 1.0


@dataclass(frozen=True)
class CaseConfig:
    """Settings of one worked case (see ``cases/*/case.toml`` and the README)."""

    name: str
    folder: Path
    title: str
    class_of_matter: str
    peers: dict[str, TableSource]
    requests: dict[str, TableSource]
    output_indicator: str
    output_unit: str
    dimensions: tuple[str, ...]
    amount_rel_tol: float
    amount_abs_tol: float
    variables: dict[str, str]
    drivers: dict[str, str]
    decomposition_drivers: tuple[str, ...]
    decomposition_scale: float
    decomposition_method: str
    standard: StandardRule
    review: ReviewRule
    description: str = ""
    regression_formula: str | None = None
    frontier_inputs: tuple[str, ...] = ()
    frontier_outputs: tuple[str, ...] = ()
    output_weights: dict[str, float] | None = None
    regression_se: str = "HC1"
    regression_quantile: float | None = None
    frontier_rts: str = "vrs"
    frontier_orientation: str = "in"
    decomposition_reference: str = "median"
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, name: str, lang: str = "zh") -> str:
        """Display label of a column: the case's [labels] (Chinese), else the data model."""
        from costperf.columns import label

        if lang == "zh" and name in self.labels:
            return self.labels[name]
        return label(name, lang)


_SECTIONS: dict[str, set[str]] = {
    "case": {"name", "title", "class_of_matter", "description"},
    "peers": set(TABLES) | {"options"},
    "requests": set(TABLES) | {"options"},
    "units": {"output", "output_unit", "dimensions", "amount_tolerance", "amount_tolerance_abs"},
    "variables": set(),  # free names
    "drivers": set(),  # free names
    "decomposition": {"drivers", "scale", "method", "reference"},
    "benchmark": {
        "formula",
        "se",
        "quantile",
        "frontier_inputs",
        "frontier_outputs",
        "frontier_rts",
        "frontier_orientation",
    },
    "labels": set(),  # free names: display labels of drivers and variables
    "standard": {
        "id",
        "name",
        "rule",
        "outlier_rule",
        "effective_from",
        "version",
        "band",
        # rule parameters, checked by costperf.standards.derive (see its rule_values)
        "tau",
        "at",
        "model_outliers",
        "dea_score",
        "members",
        "combine",
        "weights",
        "compare",
        "table_version",
        "formula",
        "dea_inputs",
        "dea_outputs",
        "dea_rts",
    },
    "review": {"tolerance", "date", "adjust_by", "adjust_elasticity"},
}
_TABLE_OPTIONS = {"sheet", "header_row", "amount_unit"}


class _Reader:
    """Typed access to the parsed TOML that reports the exact key on error."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path = data, path

    def fail(self, key: str, expected: str, value: object = None) -> InputError:
        got = "" if value is None else f"got {value!r}, "
        return located_error(
            f"{self.path}: key '{key}': {got}expected {expected}",
            source_file=self.path,
            column=key,
            value=value,
            expected=expected,
            check="config",
        )

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "a table [" + name + "]", value)
        return value

    def get(
        self,
        section: str,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
    ) -> Any:
        sec = self.section(section)
        if key not in sec:
            if required:
                raise self.fail(
                    f"{section}.{key}", f"a value (it is required) of type {_kind_name(kind)}"
                )
            return default
        value = sec[key]
        if not isinstance(value, kind) or isinstance(value, bool) and bool not in _tuple(kind):
            raise self.fail(f"{section}.{key}", _kind_name(kind), value)
        return value

    def choice(self, section: str, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.get(section, key, str, default)
        if value not in allowed:
            msg = (
                f"{self.path}: unknown {key} '{value}' in [{section}]; use one of: "
                f"{', '.join(allowed)}"
            )
            raise InputError(msg)
        return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        int: "a whole number",
        float: "a number",
        list: "a list",
        dict: "a table",
        dt.date: "a date (YYYY-MM-DD)",
        bool: "true or false",
    }
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))


def _check_keys(data: dict[str, Any], path: Path) -> None:
    for section, value in data.items():
        if section not in _SECTIONS:
            msg = f"{path}: unknown section [{section}]; use one of: {', '.join(_SECTIONS)}"
            raise InputError(msg)
        allowed = _SECTIONS[section]
        if not allowed or not isinstance(value, dict):
            continue
        for key in value:
            if key not in allowed:
                msg = (
                    f"{path}: unknown key '{key}' in [{section}]; use one of: "
                    f"{', '.join(sorted(allowed))}"
                )
                raise InputError(msg)


def _table_sources(
    reader: _Reader, section: str, folder: Path, required: bool
) -> dict[str, TableSource]:
    sec = reader.section(section)
    options = sec.get("options", {})
    if not isinstance(options, dict):
        raise reader.fail(f"{section}.options", "a table", options)
    sources = {}
    for table in TABLES:
        rel = reader.get(section, table, str, None, required=required and table != "outputs")
        if rel is None:
            continue
        opts = options.get(table, {})
        if not isinstance(opts, dict):
            raise reader.fail(f"{section}.options.{table}", "a table", opts)
        for key in opts:
            if key not in _TABLE_OPTIONS:
                msg = (
                    f"{reader.path}: unknown key '{key}' in [{section}.options.{table}]; "
                    f"use one of: {', '.join(sorted(_TABLE_OPTIONS))}"
                )
                raise InputError(msg)
        unit = opts.get("amount_unit", "元")
        if unit not in AMOUNT_UNITS:
            msg = (
                f"{reader.path}: unknown amount_unit '{unit}' in "
                f"[{section}.options.{table}]; use one of: {', '.join(AMOUNT_UNITS)}"
            )
            raise InputError(msg)
        sheet = opts.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise reader.fail(f"{section}.options.{table}.sheet", "a sheet name (text)", sheet)
        header_row = opts.get("header_row")
        if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
            raise reader.fail(
                f"{section}.options.{table}.header_row", "a whole number >= 1", header_row
            )
        sources[table] = TableSource(folder / rel, sheet, header_row, unit)
    unknown_opts = set(options) - set(TABLES)
    if unknown_opts:
        msg = (
            f"{reader.path}: unknown table '{sorted(unknown_opts)[0]}' in "
            f"[{section}.options]; use one of: {', '.join(TABLES)}"
        )
        raise InputError(msg)
    return sources


def _str_map(reader: _Reader, section: str) -> dict[str, str]:
    sec = reader.section(section)
    for key, value in sec.items():
        if not isinstance(value, str):
            raise reader.fail(f"{section}.{key}", "text", value)
        if not key.isidentifier():
            raise reader.fail(f"{section}.{key}", "a name of letters, digits and _", key)
    return dict(sec)


def _str_list(reader: _Reader, section: str, key: str) -> tuple[str, ...]:
    value = reader.get(section, key, list, [])
    if not all(isinstance(v, str) for v in value):
        raise reader.fail(f"{section}.{key}", "a list of text", value)
    return tuple(value)


def load_case(folder: str | Path) -> CaseConfig:
    """Load ``case.toml`` from a case folder (or the file itself) into a :class:`CaseConfig`."""
    folder = Path(folder)
    path = folder if folder.suffix == ".toml" else folder / "case.toml"
    try:
        return _load_case(path)
    except InputError as exc:
        if exc.problems.empty:  # one located row, so the CLI writes the problems table
            text = str(exc).removeprefix(f"{path}: ")
            raise located_error(str(exc), source_file=path, expected=text, check="config") from exc
        raise


def _load_case(path: Path) -> CaseConfig:
    folder = path.parent
    if not path.is_file():
        msg = f"{path}: no case.toml here; a case is a folder with a case.toml (see README)"
        raise InputError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid TOML: {exc}"
        line = re.search(r"at line (\d+)", str(exc))
        raise located_error(
            msg,
            source_file=path,
            row=int(line.group(1)) if line else None,
            check="toml_syntax",
            expected=f"valid TOML ({exc})",
        ) from exc
    _check_keys(data, path)
    r = _Reader(data, path)
    std_date = r.get("standard", "effective_from", dt.date, dt.date(2026, 1, 1))
    band = _str_list(r, "standard", "band") or ("p25", "p75")
    for b in band:
        if b not in STANDARD_RULES:
            msg = (
                f"{path}: unknown band '{b}' in [standard]; use one of: {', '.join(STANDARD_RULES)}"
            )
            raise InputError(msg)
    if len(band) != 2:
        raise r.fail("standard.band", 'two statistics, e.g. ["p25", "p75"]', list(band))
    drivers = _str_map(r, "drivers")
    decomposition = _str_list(r, "decomposition", "drivers")
    for name in decomposition:
        if name not in drivers and name not in _str_map(r, "variables"):
            msg = (
                f"{path}: decomposition driver '{name}' is not defined in [drivers]; "
                f"defined: {', '.join(drivers) or 'none'}"
            )
            raise InputError(msg)
    tolerance = float(r.get("review", "tolerance", (int, float), 0.0))
    if not 0 <= tolerance < 1:
        raise r.fail("review.tolerance", "a fraction in [0, 1)", tolerance)
    return CaseConfig(
        name=r.get("case", "name", str, folder.name),
        folder=folder,
        title=r.get("case", "title", str, folder.name),
        class_of_matter=r.get("case", "class_of_matter", str, required=True),
        description=r.get("case", "description", str, ""),
        peers=_table_sources(r, "peers", folder, required=True),
        requests=_table_sources(r, "requests", folder, required=False),
        output_indicator=_output_name(r),
        output_weights=_output_weights(r),
        output_unit=r.get("units", "output_unit", str, ""),
        dimensions=_str_list(r, "units", "dimensions"),
        amount_rel_tol=float(r.get("units", "amount_tolerance", (int, float), 0.005)),
        amount_abs_tol=float(r.get("units", "amount_tolerance_abs", (int, float), 1.0)),
        variables=_str_map(r, "variables"),
        drivers=drivers,
        decomposition_drivers=decomposition,
        decomposition_scale=float(r.get("decomposition", "scale", (int, float), 1.0)),
        decomposition_method=r.choice(
            "decomposition", "method", GAP_METHODS, "lmdi_multiplicative"
        ),
        standard=StandardRule(
            standard_id=r.get("standard", "id", str, "UC"),
            name=r.get("standard", "name", str, "单位成本标准"),
            rule=_standard_rule(r),
            outlier_rule=r.choice("standard", "outlier_rule", OUTLIER_RULES, "iqr"),
            effective_from=std_date,
            version=str(r.get("standard", "version", (str, int), "1")),
            band=(band[0], band[1]),
        ),
        review=ReviewRule(
            tolerance=tolerance,
            review_date=r.get("review", "date", dt.date, None),
            adjust_by=r.get("review", "adjust_by", str, None),
            adjust_elasticity=float(r.get("review", "adjust_elasticity", (int, float), 1.0)),
        ),
        regression_formula=r.get("benchmark", "formula", str, None),
        frontier_inputs=_str_list(r, "benchmark", "frontier_inputs"),
        frontier_outputs=_str_list(r, "benchmark", "frontier_outputs"),
        regression_se=r.choice("benchmark", "se", SE_TYPES, "HC1"),
        regression_quantile=_quantile(r),
        frontier_rts=r.choice("benchmark", "frontier_rts", FRONTIER_RTS, "vrs"),
        frontier_orientation=r.choice(
            "benchmark", "frontier_orientation", FRONTIER_ORIENTATIONS, "in"
        ),
        decomposition_reference=_gap_reference(r),
        labels=_str_map(r, "labels"),
        extra={"standard": _rule_parameters(r)},
    )


_STANDARD_OWN_KEYS = {"id", "name", "effective_from", "version", "band"}


def _rule_parameters(r: _Reader) -> dict[str, Any]:
    """[standard] keys that are rule parameters (checked when the standard is derived)."""
    return {k: v for k, v in r.section("standard").items() if k not in _STANDARD_OWN_KEYS}


def _standard_rule(r: _Reader) -> str:
    """The [standard] rule: a peer statistic here; model rules are checked by derive."""
    from costperf.standards.derive.rules import parse_rule

    value = r.get("standard", "rule", str, "median")
    try:
        parse_rule(value)
    except InputError:
        names = ("median", "mean", "p10", "p25", "p75", "p90", "quantile:<q>")
        models = ("regression", "quantile_regression", "dea", "triangulation")
        msg = (
            f"{r.path}: unknown rule '{value}' in [standard]; use one of: "
            f"{', '.join(names + models)}"
        )
        raise InputError(msg) from None
    return value


def _output_weights(r: _Reader) -> dict[str, float] | None:
    """``[units] output`` as a table: a composite output, indicator -> weight (> 0)."""
    value = r.get("units", "output", (str, dict), required=True)
    if isinstance(value, str):
        return None
    if not value:
        raise r.fail("units.output", "an indicator name or a table of indicator = weight", value)
    for indicator, weight in value.items():
        ok = isinstance(weight, int | float) and not isinstance(weight, bool) and weight > 0
        if not ok:
            raise r.fail(f"units.output.{indicator}", "a weight > 0", weight)
    return {str(k): float(v) for k, v in value.items()}


def _output_name(r: _Reader) -> str:
    """The output's name in messages: the indicator, or the composite's formula."""
    weights = _output_weights(r)
    if weights is None:
        return r.get("units", "output", str, required=True)
    return " + ".join(f"{w:g}×{k}" for k, w in weights.items())


def _gap_reference(r: _Reader) -> str:
    """A peer statistic, or ``district:<name>`` (that district's median contracts)."""
    value = r.get("decomposition", "reference", str, "median")
    if value in GAP_REFERENCES or (value.startswith("district:") and value[9:].strip()):
        return value
    msg = (
        f"{r.path}: unknown reference '{value}' in [decomposition]; use one of: "
        f"{', '.join(GAP_REFERENCES)}, district:<name>"
    )
    raise InputError(msg)


def _quantile(r: _Reader) -> float | None:
    value = r.get("benchmark", "quantile", (int, float), None)
    if value is not None and not 0 < value < 1:
        raise r.fail("benchmark.quantile", "a quantile tau in (0, 1), e.g. 0.25", value)
    return None if value is None else float(value)
