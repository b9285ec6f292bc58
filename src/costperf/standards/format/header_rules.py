"""Header check of the ``[rules]`` sections: rule type, keys, and the tiers, seasons,
bands and limits of each rule."""

from __future__ import annotations

from collections.abc import Mapping

from costperf.standards.format.dates import parse_month_day
from costperf.standards.format.keys import HeaderProblems, check_header_keys
from costperf.standards.format.schema import DERIVING_RULES, RULE_COMMON, RULE_KEYS


def check_rule(name: str, rule: object, dims: Mapping[str, object], out: HeaderProblems) -> None:
    where = f"rules.{name}"
    if not isinstance(rule, dict):
        out.add(where, rule, "a table with a 'type'", "header_value")
        return
    rule_type = rule.get("type")
    if not isinstance(rule_type, str) or rule_type not in RULE_KEYS:
        out.add(where + ".type", rule_type, "one of: " + ", ".join(RULE_KEYS), "rule_type")
        return
    if not check_header_keys(rule, {**RULE_COMMON, **RULE_KEYS[rule_type]}, where + ".", out):
        return
    if rule_type in DERIVING_RULES and rule["dim"] not in dims:
        out.add(
            where + ".dim", rule["dim"], "a dimension declared in [dimensions]", "rule_dimension"
        )
    check = {
        "tiers": _check_tiers,
        "seasons": _check_seasons,
        "bands": _check_bands,
        "limit": _check_limit,
    }.get(rule_type)
    if check:
        check(rule, where, out)


def _check_limit(rule: Mapping[str, object], where: str, out: HeaderProblems) -> None:
    if "max" not in rule and "min" not in rule:
        out.add(where, None, "a 'max' or a 'min'", "rule_limit")


def _check_tiers(rule: Mapping[str, object], where: str, out: HeaderProblems) -> None:
    tiers, previous = rule["tiers"], 0.0
    if rule.get("rounding", "none") not in ("none", "floor", "ceil"):
        out.add(where + ".rounding", rule["rounding"], "one of: none, floor, ceil", "rule_rounding")
    for i, tier in enumerate(tiers):
        here = f"{where}.tiers[{i + 1}]"
        if not isinstance(tier, dict) or set(tier) - {"upto", "rate", "per"}:
            out.add(
                here, tier, "an inline table with 'upto' and one of 'rate' or 'per'", "rule_tier"
            )
            continue
        if ("rate" in tier) == ("per" in tier):
            out.add(
                here, tier, "exactly one of 'rate' (per unit) or 'per' (one per N)", "rule_tier"
            )
        per = tier.get("per")
        if per is not None and (not _is_number(per) or per <= 0):
            out.add(here + ".per", per, "a number > 0", "rule_tier")
        last = i == len(tiers) - 1
        upto = tier.get("upto")
        if last and upto is not None:
            out.add(
                here + ".upto", upto, "no 'upto' on the last tier (it is open-ended)", "rule_tier"
            )
        if not last and (not _is_number(upto) or upto <= previous):
            out.add(
                here + ".upto", upto, f"a number above {previous:g} (tiers ascend)", "rule_tier"
            )
        previous = upto if _is_number(upto) else previous
    if not tiers:
        out.add(where + ".tiers", tiers, "at least one tier", "rule_tier")


def _check_seasons(rule: Mapping[str, object], where: str, out: HeaderProblems) -> None:
    for key, windows in rule["windows"].items():
        here = f"{where}.windows.{key}"
        if not isinstance(windows, list) or not windows:
            out.add(
                here,
                windows,
                "a list of windows, each with start and end as 'MM-DD'",
                "rule_window",
            )
            continue
        for window in windows:
            if (
                not isinstance(window, dict)
                or set(window) != {"start", "end"}
                or parse_month_day(window["start"]) is None
                or parse_month_day(window["end"]) is None
            ):
                out.add(
                    here,
                    window,
                    "a window with start and end as 'MM-DD' (inclusive; it "
                    "may wrap the year end, e.g. 11-01 to 02-29)",
                    "rule_window",
                )


def _check_bands(rule: Mapping[str, object], where: str, out: HeaderProblems) -> None:
    bands, previous = rule["bands"], float("-inf")
    for i, band in enumerate(bands):
        here = f"{where}.bands[{i + 1}]"
        last = i == len(bands) - 1
        if (
            not isinstance(band, dict)
            or not isinstance(band.get("label"), str)
            or set(band) - {"label", "upto"}
        ):
            out.add(
                here,
                band,
                "a band with a label and a number upto (upto inclusive; none on the last)",
                "rule_band",
            )
            continue
        upto = band.get("upto")
        if last != (upto is None) or (
            upto is not None and (not _is_number(upto) or upto <= previous)
        ):
            out.add(here, band, "ascending 'upto' limits, open-ended last band", "rule_band")
        previous = upto if _is_number(upto) else previous


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
