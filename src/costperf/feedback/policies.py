"""The feedback-loop rules as data: ``policies/*.toml`` (shipped) or a file of the user's.

Each loader checks every key and range and names the file and key of a problem; the
result is a frozen dataclass the pure stages take, and :func:`policy_record` is what is
stored with the records (the rules as read, their file and hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from costperf.errors import Check, InputError, located_error

KINDS = ("self", "key", "third_party")
RECOMMENDATIONS = ("cancel", "reduce", "improve", "maintain", "prioritise")


@dataclass(frozen=True)
class MonitoringPolicy:
    """双监控 thresholds (``policies/monitoring.toml``)."""

    max_gap: float = 0.20
    min_attainment: float = 0.60
    slow_action: str = "recover_or_reallocate"
    deviation_action: str = "adjust_targets_or_suspend"
    source: str = ""
    digest: str = ""


@dataclass(frozen=True)
class EvaluationPolicy:
    """Grades by score and which kind of evaluation stands (``policies/evaluation.toml``)."""

    grades: tuple[tuple[str, float], ...] = (("优", 90.0), ("良", 80.0), ("中", 60.0), ("差", 0.0))
    kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    precedence: tuple[str, ...] = ("key", "third_party", "self")
    source: str = ""
    digest: str = ""


@dataclass(frozen=True)
class FeedbackRule:
    """One row of the feedback table: conditions, recommendation, cut rate."""

    name: str
    recommendation: str
    cut_rate: float
    grade: tuple[str, ...] = ()
    previous_grade: tuple[str, ...] = ()
    attainment_below: float | None = None


@dataclass(frozen=True)
class FeedbackPolicy:
    """The feedback table (``policies/feedback.toml``)."""

    rules: tuple[FeedbackRule, ...]
    min_execution_rate: float = 0.80
    year_end_from: str = "12-01"
    becomes: Mapping[str, str] = field(default_factory=dict)
    unevaluated: FeedbackRule = FeedbackRule("unevaluated", "maintain", 0.0)
    unevaluated_flag: str = "unevaluated"
    source: str = ""
    digest: str = ""


def read_policy_file(name: str, path: str | Path | None = None) -> tuple[dict, str, str]:
    """The TOML document, where it came from and its SHA-256 (16 hex digits)."""
    if path is None:
        data = resources.files("costperf.policy_tables").joinpath(name).read_bytes()
        where = f"policies/{name}"
    else:
        path = Path(path)
        if path.is_dir():
            msg = f"{path}: is a folder, not a rules file"
            expected = "a rules file (TOML), not a folder"
            raise located_error(msg, source_file=path, expected=expected, check=Check.NOT_A_FILE)
        if not path.is_file():
            msg = f"{path}: rules file not found"
            expected = "an existing rules file (TOML)"
            raise located_error(
                msg, source_file=path, expected=expected, check=Check.FILE_NOT_FOUND
            )
        data, where = path.read_bytes(), str(path)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"{where}: not a valid TOML file: {exc}"
        raise located_error(
            msg, source_file=where, expected=f"valid TOML ({exc})", check=Check.TOML_SYNTAX
        ) from exc
    return doc, where, hashlib.sha256(data).hexdigest()[:16]


class PolicyKeys:
    """Typed access to one table of a policy file, naming the file and key on errors.

    A bad key is kept in :attr:`errors` (shared by the file's tables) and read as its
    default, so that :meth:`done` reports every problem of the file at once."""

    def __init__(
        self, where: str, table: Mapping, path: str, errors: list[InputError] | None = None
    ) -> None:
        self.where, self.table, self.path = where, dict(table), path
        self.errors = [] if errors is None else errors

    def fail(self, key: str, expected: str, value: object = "") -> InputError:
        msg = f"{self.where}: [{self.path}] {key}: expected {expected}, got {value!r}"
        return located_error(
            msg, source_file=self.where, column=f"{self.path}.{key}", value=value,
            expected=expected, check=Check.CONFIG,
        )  # fmt: skip

    def keep(self, key: str, expected: str, value: object = "") -> None:
        """Note a problem and go on reading."""
        self.errors.append(self.fail(key, expected, value))

    def stop(self, key: str, expected: str, value: object = "") -> InputError:
        """A problem after which the file cannot be read on: with those found before it."""
        from costperf.errors import merge_errors

        return merge_errors([*self.errors, self.fail(key, expected, value)], Check.CONFIG)

    def done(self) -> None:
        """Raise every problem noted (none: nothing)."""
        from costperf.errors import merge_errors

        if self.errors:
            raise merge_errors(list(self.errors), Check.CONFIG)

    def entry(self, table: object, path: str) -> PolicyKeys:
        """One ``[[...]]`` entry of the file, sharing its problems."""
        return PolicyKeys(self.where, table if isinstance(table, dict) else {}, path, self.errors)

    def known(self, *keys: str) -> None:
        for key in self.table:
            if key not in keys:
                self.keep(key, f"one of the keys {', '.join(keys)}", key)

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.table.get(key, default)
        wrong = isinstance(value, bool) or not isinstance(value, int | float)
        if wrong or math.isnan(value) or not low <= value <= high:
            self.keep(key, f"a number in [{low:g}, {high:g}]", value)
            return float(default)
        return float(value)

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value or (choices and value not in choices):
            self.keep(key, "one of " + ", ".join(choices) if choices else "text", value)
            return default
        return value

    def texts(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.table.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.keep(key, "a list of text", value)
            return tuple(default)
        return tuple(value)

    def sub(self, key: str) -> PolicyKeys:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            self.keep(key, "a table", value)
            value = {}
        return PolicyKeys(
            self.where, value, f"{self.path}.{key}" if self.path else key, self.errors
        )


def load_monitoring_policy(path: str | Path | None = None) -> MonitoringPolicy:
    """Read ``policies/monitoring.toml`` (or ``path``) and check it."""
    doc, where, digest = read_policy_file("monitoring.toml", path)
    top = PolicyKeys(where, doc, "")
    top.known("slow_execution", "target_deviation")
    slow, dev = top.sub("slow_execution"), top.sub("target_deviation")
    slow.known("max_gap", "action")
    dev.known("min_attainment", "action")
    policy = MonitoringPolicy(
        max_gap=slow.number("max_gap", 0.20, 0.0, 1.0),
        min_attainment=dev.number("min_attainment", 0.60, 0.0, 1.0),
        slow_action=slow.text("action", "recover_or_reallocate"),
        deviation_action=dev.text("action", "adjust_targets_or_suspend"),
        source=where,
        digest=digest,
    )
    top.done()
    return policy


def load_evaluation_policy(path: str | Path | None = None) -> EvaluationPolicy:
    """Read ``policies/evaluation.toml`` (or ``path``) and check it."""
    doc, where, digest = read_policy_file("evaluation.toml", path)
    top = PolicyKeys(where, doc, "")
    top.known("grade", "kinds", "standing")
    raw = doc.get("grade", [])
    if not isinstance(raw, list) or not raw:
        raise top.stop("grade", "a list of [[grade]] tables with grade and min_score", raw)
    grades = []
    for k, item in enumerate(raw, start=1):
        entry = top.entry(item, f"grade {k}")
        entry.known("grade", "min_score")
        grades.append((entry.text("grade", ""), entry.number("min_score", -1, 0.0, 100.0)))
    scores = [g[1] for g in grades]
    if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores) or scores[-1]:
        top.keep("grade", "grades from the highest min_score down to one of 0", scores)
    kinds = top.sub("kinds")
    kinds.known(*KINDS)
    names = {k: kinds.texts(k, (k,)) for k in KINDS}
    standing = top.sub("standing")
    standing.known("precedence")
    precedence = standing.texts("precedence", ("key", "third_party", "self"))
    if sorted(precedence) != sorted(KINDS):
        standing.keep("precedence", f"each of {', '.join(KINDS)} once", list(precedence))
    top.done()
    return EvaluationPolicy(tuple(grades), names, precedence, where, digest)


def load_feedback_policy(path: str | Path | None = None) -> FeedbackPolicy:
    """Read ``policies/feedback.toml`` (or ``path``) and check it."""
    doc, where, digest = read_policy_file("feedback.toml", path)
    top = PolicyKeys(where, doc, "")
    top.known("rule", "execution", "unevaluated")
    raw = doc.get("rule", [])
    if not isinstance(raw, list) or not raw:
        raise top.stop("rule", "a list of [[rule]] tables", raw)
    rules = tuple(_rule(top.entry(r, f"rule {k}")) for k, r in enumerate(raw, start=1))
    execution = top.sub("execution")
    execution.known("min_rate", "year_end_from", "becomes")
    year_end = execution.text("year_end_from", "12-01")
    try:
        dt.date.fromisoformat(f"2024-{year_end}")
    except ValueError:
        execution.keep("year_end_from", "a day of the year MM-DD", year_end)
        year_end = "12-01"
    becomes = execution.sub("becomes")
    changed = {k: becomes.text(k, "", RECOMMENDATIONS) for k in becomes.table}
    for key in changed:
        if key not in RECOMMENDATIONS:
            becomes.keep(key, "a recommendation: " + ", ".join(RECOMMENDATIONS), key)
    none = top.sub("unevaluated")
    none.known("name", "recommendation", "cut_rate", "flag")
    policy = FeedbackPolicy(
        rules=rules,
        min_execution_rate=execution.number("min_rate", 0.80, 0.0, 1.0),
        year_end_from=year_end,
        becomes=changed,
        unevaluated=FeedbackRule(
            none.text("name", "unevaluated"),
            none.text("recommendation", "maintain", RECOMMENDATIONS),
            none.number("cut_rate", 0.0, 0.0, 1.0),
        ),
        unevaluated_flag=none.text("flag", "unevaluated"),
        source=where,
        digest=digest,
    )
    top.done()
    return policy


def _rule(entry: PolicyKeys) -> FeedbackRule:
    entry.known("name", "grade", "previous_grade", "attainment_below", "recommendation", "cut_rate")
    below = entry.table.get("attainment_below")
    return FeedbackRule(
        name=entry.text("name", ""),
        recommendation=entry.text("recommendation", "", RECOMMENDATIONS),
        cut_rate=entry.number("cut_rate", -1, 0.0, 1.0),
        grade=entry.texts("grade"),
        previous_grade=entry.texts("previous_grade"),
        attainment_below=None if below is None else entry.number("attainment_below", 0, 0.0, 2.0),
    )


def policy_record(policy: object) -> dict:
    """The policy as stored with the records: every rule, its file and its hash."""
    return asdict(policy)
