"""Case configuration: ``cases/<name>/case.toml`` loaded into a frozen :class:`CaseConfig`.

A case names its data files and settings. Every key is checked: an unknown key or a
value of the wrong kind is an :class:`InputError` that names the key, the file and the
allowed values (exit status 2 at the CLI).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costperf.errors import Check, InputError, located_error, merge_errors
from costperf.params import (
    DeriveParams,
    FrontierParams,
    GapParams,
    OptimizeParams,
    RegressionParams,
    ReviewParams,
    UnitsParams,
)

AMOUNT_UNITS = {"元": 1.0, "yuan": 1.0, "万元": 1e4, "千元": 1e3}
OUTLIER_RULES = ("iqr", "mad", "none")
TABLES = ("projects", "line_items", "outputs")
GAP_METHODS = ("lmdi_multiplicative", "lmdi_additive", "shapley")
GAP_REFERENCES = ("median", "mean", "geomean", "p25", "p75")
SE_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
FRONTIER_RTS = ("vrs", "crs", "drs", "irs", "fdh")
FRONTIER_ORIENTATIONS = ("in", "out")


@dataclass(frozen=True)
class Range:
    """The allowed values of a numeric key: ``lo`` .. ``hi`` (open or closed ends)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    whole: bool = False

    def holds(self, value: float) -> bool:
        if not math.isfinite(value) or (self.whole and value != int(value)):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    @property
    def text(self) -> str:
        kind = "a whole number" if self.whole else "a finite number"
        if self.hi == math.inf:
            return f"{kind} {'>' if self.lo_open else '>='} {self.lo:g}"
        left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
        return f"{kind} in {left}{self.lo:g}, {self.hi:g}{right}"


#: every numeric key of case.toml and its range (README, "Case format")
NUMBER_RANGES: dict[str, Range] = {
    "units.amount_tolerance": Range(0.0, 1.0, hi_open=True),
    "units.amount_tolerance_abs": Range(0.0),
    "units.output.*": Range(0.0, lo_open=True),
    "decomposition.scale": Range(0.0, lo_open=True),
    "benchmark.quantile": Range(0.0, 1.0, lo_open=True, hi_open=True),
    "standard.tau": Range(0.0, 1.0, lo_open=True, hi_open=True),
    "standard.k": Range(0.0, lo_open=True),
    "standard.min_group_size": Range(1.0, whole=True),
    "standard.table_version": Range(1.0, whole=True),
    "standard.weights.*": Range(0.0),
    "review.tolerance": Range(0.0, 1.0, hi_open=True),
    "review.adjust_elasticity": Range(0.0, 3.0),
    "optimize.max_group_cut": Range(0.0, 1.0),
    "optimize.project_floor": Range(0.0, 1.0),
    "optimize.time_limit": Range(0.0, lo_open=True),
}
OPTIMIZE_SOLVERS = ("highs", "cbc")
OPTIMIZE_TABLES = ("resources", "constraints", "coefficients")


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
class CaseConfig:
    """Settings of one worked case (see ``cases/*/case.toml`` and the README).

    The stage parameters are plain frozen objects (:mod:`costperf.params`): the stages
    take those, never the case.
    """

    name: str
    folder: Path
    title: str
    class_of_matter: str
    peers: dict[str, TableSource]
    requests: dict[str, TableSource]
    units: UnitsParams
    gap: GapParams
    regression: RegressionParams
    frontier: FrontierParams
    standard: DeriveParams
    review: ReviewParams
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    optimize: OptimizeParams | None = None

    @property
    def path(self) -> Path:
        """The case.toml."""
        return self.folder / "case.toml"

    def label(self, name: str, lang: str = "zh") -> str:
        """Display label of a column: the case's [labels] (Chinese), else the data model."""
        from costperf.columns import label

        if lang == "zh" and name in self.labels:
            return self.labels[name]
        return label(name, lang)

    def config_error(self, key: str, message: str, value: object = "") -> InputError:
        """An error about a case.toml setting, located at its key."""
        return located_error(
            f"{self.path}: {message}",
            source_file=self.path,
            column=key,
            value=value,
            expected=message,
            check=Check.CONFIG,
        )


_STANDARD_OWN_KEYS = {"id", "name", "rule", "effective_from", "version", "band"}
_STANDARD_KEYS = _STANDARD_OWN_KEYS | {"compare", "table_version"}
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
    "standard": set(),  # own keys and every rule parameter of the registry: _standard_keys()
    "review": {"tolerance", "date", "adjust_by", "adjust_elasticity"},
    "optimize": {
        *OPTIMIZE_TABLES,
        "solver",
        "max_group_cut",
        "project_floor",
        "date",
        "standards",
        "time_limit",
    },
}
_TABLE_OPTIONS = {"sheet", "header_row", "amount_unit"}


def _standard_keys() -> set[str]:
    """[standard] keys: its own, and every rule parameter in the derivation registry."""
    from costperf.standards.derive.registry import COMMON_PARAMS, default_params

    return _STANDARD_KEYS | (set(default_params()) - set(COMMON_PARAMS))


class _Reader:
    """Typed access to the parsed TOML that reports the exact key on error.

    A value of the wrong type, outside its range or outside its closed list is kept in
    :attr:`errors` and read as the default, so that the rest of the file is read and
    every such key is reported at once (:func:`load_case`)."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path = data, path
        self.errors: list[InputError] = []

    def fail(self, key: str, expected: str, value: object = None) -> InputError:
        got = "" if value is None else f"got {value!r}, "
        return located_error(
            f"{self.path}: key '{key}': {got}expected {expected}",
            source_file=self.path,
            column=key,
            value=value,
            expected=expected,
            check=Check.CONFIG,
        )

    def unknown(self, key: str, what: str, value: object, allowed: object) -> InputError:
        """A value outside a closed list: ``unknown X 'v' in [section]; use one of: ...``."""
        section = key.rsplit(".", 1)[0]
        listing = ", ".join(str(a) for a in allowed)
        return located_error(
            f"{self.path}: unknown {what} '{value}' in [{section}]; use one of: {listing}",
            source_file=self.path,
            column=key,
            value=value,
            expected=f"one of: {listing}",
            check=Check.CONFIG,
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
            self.errors.append(self.fail(f"{section}.{key}", _kind_name(kind), value))
            return default
        return value

    def number(self, section: str, key: str, default: float | None) -> float | None:
        """A numeric key, checked against its :data:`NUMBER_RANGES` entry."""
        value = self.get(section, key, (int, float), default)
        if value is None:
            return None
        try:
            check_range(self, f"{section}.{key}", value)
        except InputError as exc:
            self.errors.append(exc)
            return default
        return float(value)

    def choice(self, section: str, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.get(section, key, str, default)
        if value not in allowed:
            self.errors.append(self.unknown(f"{section}.{key}", key, value, allowed))
            return default
        return value


def check_range(reader: _Reader, key: str, value: float) -> None:
    """Raise naming ``key`` when ``value`` is outside its stated range."""
    pattern = key.rsplit(".", 1)[0] + ".*"
    allowed = NUMBER_RANGES.get(key) or NUMBER_RANGES.get(pattern)
    if allowed is not None and not allowed.holds(float(value)):
        raise reader.fail(key, allowed.text, value)


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


def _check_keys(reader: _Reader) -> None:
    sections = {**_SECTIONS, "standard": _standard_keys()}
    for section, value in reader.data.items():
        if section not in sections:
            listing = ", ".join(sections)
            reader.errors.append(
                located_error(
                    f"{reader.path}: unknown section [{section}]; use one of: {listing}",
                    source_file=reader.path,
                    column=section,
                    value=f"[{section}]",
                    expected=f"one of: {listing}",
                    check=Check.CONFIG,
                )
            )
            continue
        allowed = sections[section]
        if not allowed or not isinstance(value, dict):
            continue
        for key in value:
            if key not in allowed:
                reader.errors.append(
                    reader.unknown(f"{section}.{key}", "key", key, sorted(allowed))
                )


def _table_sources(
    reader: _Reader, section: str, folder: Path, required: bool
) -> dict[str, TableSource]:
    sec = reader.section(section)
    options = sec.get("options", {})
    if not isinstance(options, dict):
        raise reader.fail(f"{section}.options", "a table", options)
    unknown_opts = set(options) - set(TABLES)
    if unknown_opts:
        name = sorted(unknown_opts)[0]
        raise reader.unknown(f"{section}.options.{name}", "table", name, TABLES)
    sources = {}
    for table in TABLES:
        rel = reader.get(section, table, str, None, required=required and table != "outputs")
        if rel is None:
            continue
        opts = options.get(table, {})
        where = f"{section}.options.{table}"
        if not isinstance(opts, dict):
            raise reader.fail(where, "a table", opts)
        for key in opts:
            if key not in _TABLE_OPTIONS:
                raise reader.unknown(f"{where}.{key}", "key", key, sorted(_TABLE_OPTIONS))
        unit = opts.get("amount_unit", "元")
        if unit not in AMOUNT_UNITS:
            raise reader.unknown(f"{where}.amount_unit", "amount_unit", unit, AMOUNT_UNITS)
        sheet = opts.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise reader.fail(f"{where}.sheet", "a sheet name (text)", sheet)
        header_row = opts.get("header_row")
        if header_row is not None and (
            not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1
        ):
            raise reader.fail(f"{where}.header_row", "a whole number >= 1", header_row)
        sources[table] = TableSource(folder / rel, sheet, header_row, unit)
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
            raise located_error(
                str(exc), source_file=path, expected=text, check=Check.CONFIG
            ) from exc
        raise


def _load_case(path: Path) -> CaseConfig:
    if not path.is_file():
        msg = f"{path}: no case.toml here; a case is a folder with a case.toml (see README)"
        expected = "a case folder with a case.toml (see README)"
        from costperf.io.book import book_folder

        book = book_folder(path.parent)
        if book is not None:  # a request book: reviewed by costperf review, not run
            hint = f"; a request book is reviewed, not run: costperf review {book}"
            msg, expected = msg + hint, expected + hint
        raise located_error(msg, source_file=path, check=Check.MISSING_FILE, expected=expected)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid TOML: {exc}"
        line = re.search(r"at line (\d+)", str(exc))
        raise located_error(
            msg,
            source_file=path,
            row=int(line.group(1)) if line else None,
            check=Check.TOML_SYNTAX,
            expected=f"valid TOML ({exc})",
        ) from exc
    r = _Reader(data, path)
    try:
        config = _config(r, data, path)
    except InputError as exc:  # a key that stops the reading: with those found before it
        raise merge_errors(_first_per_key([*r.errors, exc])) from None
    if r.errors:
        raise merge_errors(_first_per_key(r.errors))
    return config


def _first_per_key(errors: list[InputError]) -> list[InputError]:
    """One error per key: a key read as its default (a text for the dimensions' list)
    is not reported again by the checks that then see the default."""
    seen: set[str] = set()
    kept = []
    for error in errors:
        keys = set(error.problems["column"].astype(str)) if not error.problems.empty else set()
        if keys and keys <= seen:
            continue
        seen |= keys
        kept.append(error)
    return kept


def _config(r: _Reader, data: dict[str, Any], path: Path) -> CaseConfig:
    folder = path.parent
    _check_keys(r)
    units = _units(r)
    if _needs_peers(data) and not units.dimensions:
        # the derivation, its leave-one-out and its comparison work per cell
        r.errors.append(
            r.fail(
                "units.dimensions",
                'one or more columns that split the peers into cells, e.g. ["road_grade"]; for '
                'one standard for all, give every peer the same value in a column (scope = "全市")',
                list(units.dimensions),
            )
        )
    return CaseConfig(
        name=r.get("case", "name", str, folder.name),
        folder=folder,
        title=r.get("case", "title", str, folder.name),
        class_of_matter=r.get("case", "class_of_matter", str, required=True),
        description=r.get("case", "description", str, ""),
        peers=_table_sources(r, "peers", folder, required=_needs_peers(data)),
        requests=_table_sources(r, "requests", folder, required=False),
        units=units,
        gap=_gap(r, units),
        regression=RegressionParams(
            formula=r.get("benchmark", "formula", str, None),
            se=r.choice("benchmark", "se", SE_TYPES, "HC1"),
            quantile=r.number("benchmark", "quantile", None),
        ),
        frontier=FrontierParams(
            inputs=_str_list(r, "benchmark", "frontier_inputs"),
            outputs=_str_list(r, "benchmark", "frontier_outputs"),
            rts=r.choice("benchmark", "frontier_rts", FRONTIER_RTS, "vrs"),
            orientation=r.choice("benchmark", "frontier_orientation", FRONTIER_ORIENTATIONS, "in"),
        ),
        standard=_derive_params(r),
        review=ReviewParams(
            tolerance=r.number("review", "tolerance", 0.0),
            review_date=r.get("review", "date", dt.date, None),
            adjust_by=r.get("review", "adjust_by", str, None),
            adjust_elasticity=r.number("review", "adjust_elasticity", 1.0),
        ),
        labels=_str_map(r, "labels"),
        optimize=_optimize(r, folder),
    )


def _needs_peers(data: dict[str, Any]) -> bool:
    """A case compares peers, unless it is a case of the optimiser alone ([optimize]
    and no [peers] section)."""
    return "peers" in data or "optimize" not in data


def _optimize(r: _Reader, folder: Path) -> OptimizeParams | None:
    """The [optimize] section (None when the case has none)."""
    if "optimize" not in r.data:
        return None
    tables = {t: folder / r.get("optimize", t, str, required=True) for t in OPTIMIZE_TABLES}
    standards = r.get("optimize", "standards", str, None)
    return OptimizeParams(
        **tables,
        solver=r.choice("optimize", "solver", OPTIMIZE_SOLVERS, "highs"),
        max_group_cut=r.number("optimize", "max_group_cut", None),
        project_floor=r.number("optimize", "project_floor", None),
        date=r.get("optimize", "date", dt.date, None) or r.get("review", "date", dt.date, None),
        standards=folder / standards if standards else None,
        time_limit=r.number("optimize", "time_limit", None),
    )


def _units(r: _Reader) -> UnitsParams:
    weights = _output_weights(r)
    if weights is None:
        indicator = r.get("units", "output", str, "")
    else:  # the output's name in messages: the composite's formula
        indicator = " + ".join(f"{w:g}×{k}" for k, w in weights.items())
    return UnitsParams(
        output_indicator=indicator,
        output_weights=weights,
        output_unit=r.get("units", "output_unit", str, ""),
        dimensions=_str_list(r, "units", "dimensions"),
        variables=_str_map(r, "variables"),
        drivers=_str_map(r, "drivers"),
        amount_rel_tol=r.number("units", "amount_tolerance", 0.005),
        amount_abs_tol=r.number("units", "amount_tolerance_abs", 1.0),
    )


def _gap(r: _Reader, units: UnitsParams) -> GapParams:
    drivers = _str_list(r, "decomposition", "drivers")
    for name in drivers:
        if name not in units.drivers and name not in units.variables:
            defined = ", ".join(units.drivers) or "none"
            raise r.fail(
                "decomposition.drivers",
                f"a name defined in [drivers] ({defined}): decomposition driver '{name}' "
                "is not defined in [drivers]",
                name,
            )
    reference = r.get("decomposition", "reference", str, "median")
    district = None
    if reference.startswith("district:") and reference[9:].strip():
        district, reference = reference[9:].strip(), "median"
    elif reference not in GAP_REFERENCES:
        raise r.unknown(
            "decomposition.reference", "reference", reference, [*GAP_REFERENCES, "district:<name>"]
        )
    return GapParams(
        drivers=drivers,
        scale=r.number("decomposition", "scale", 1.0),
        method=r.choice("decomposition", "method", GAP_METHODS, "lmdi_multiplicative"),
        statistic=reference,
        district=district,
    )


def _derive_params(r: _Reader) -> DeriveParams:
    """[standard]: the rule, its parameters (with [benchmark]'s formula, quantile and
    frontier as defaults), the rules compared, the band and the table's identity."""
    from costperf.standards.derive import DEFAULT_COMPARE, check_params
    from costperf.standards.derive.registry import param_choices
    from costperf.standards.derive.rules import is_peer_statistic

    raw = r.section("standard")
    rule = _rule_name(r, "standard.rule", r.get("standard", "rule", str, "median"))
    band = _str_list(r, "standard", "band") or ("p25", "p75")
    for b in band:
        if not is_peer_statistic(b):
            raise r.unknown(
                "standard.band", "band", b, ("median", "mean", "p10", "p25", "p75", "p90")
            )
    if len(band) != 2:
        raise r.fail("standard.band", 'two statistics, e.g. ["p25", "p75"]', list(band))
    compare = _str_list(r, "standard", "compare") or DEFAULT_COMPARE
    compare = tuple(_rule_name(r, "standard.compare", c) for c in compare)
    # keys read (and checked) here: a value already reported is read as its default and
    # not checked, and so not reported, again by check_params below
    read: dict[str, object] = {}
    for key, allowed in param_choices().items():
        if key in raw:
            read[key] = r.choice("standard", key, tuple(allowed), str(allowed[0]))
    for key, value in raw.items():
        if key in ("tau", "k", "min_group_size", "table_version"):
            read[key] = value if r.number("standard", key, None) is not None else None
        if key == "weights" and isinstance(value, list):
            for i, w in enumerate(value):
                if isinstance(w, int | float) and not isinstance(w, bool):
                    check_range(r, f"standard.weights.{i + 1}", w)
    outlier_rule = r.choice("standard", "outlier_rule", OUTLIER_RULES, "iqr")
    params: dict[str, object] = {
        "outlier_rule": outlier_rule,
        "formula": r.get("benchmark", "formula", str, None),
        "tau": r.number("benchmark", "quantile", None),
        "dea_inputs": _str_list(r, "benchmark", "frontier_inputs"),
        "dea_outputs": _str_list(r, "benchmark", "frontier_outputs"),
        "dea_rts": r.choice("benchmark", "frontier_rts", FRONTIER_RTS, "vrs"),
    }
    params.update({k: v for k, v in raw.items() if k not in _STANDARD_KEYS})
    params.update({k: v for k, v in read.items() if k not in _STANDARD_KEYS})
    if "outlier_rule" in raw:  # read (and reported) above
        params["outlier_rule"] = outlier_rule
    checked = check_params(params, where=f"{r.path}: [standard]")
    return DeriveParams(
        standard_id=r.get("standard", "id", str, "UC"),
        name=r.get("standard", "name", str, "单位成本标准"),
        rule=rule,
        params=checked,
        compare=compare,
        band=(band[0], band[1]),
        effective_from=r.get("standard", "effective_from", dt.date, dt.date(2026, 1, 1)),
        version=str(r.get("standard", "version", (str, int), "1")),
        table_version=int(r.number("standard", "table_version", 1)),
    )


def _rule_name(r: _Reader, key: str, value: str) -> str:
    """A derivation rule name, parsed by the registry; located at ``key`` when unknown."""
    from costperf.standards.derive import parse_rule, rule_names

    try:
        return parse_rule(value).name
    except InputError:
        raise r.unknown(key, "rule", value, rule_names()) from None


def _output_weights(r: _Reader) -> dict[str, float] | None:
    """``[units] output`` as a table: a composite output, indicator -> weight (> 0)."""
    value = r.get("units", "output", (str, dict), "", required=_needs_peers(r.data))
    if isinstance(value, str):
        return None
    if not value:
        raise r.fail("units.output", "an indicator name or a table of indicator = weight", value)
    for indicator, weight in value.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            raise r.fail(f"units.output.{indicator}", "a weight > 0", weight)
        check_range(r, f"units.output.{indicator}", weight)
    return {str(k): float(v) for k, v in value.items()}
