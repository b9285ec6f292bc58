"""Load, hold and write standard tables (TOML header + CSV values, see ``standards/README.md``).

``read_standards`` reads a folder (or files) of tables into a :class:`StandardSet`: one
long frame of value lines (:data:`costperf.standards.format.FRAME_COLUMNS`), one row per
table version, and the parsed headers.  Every problem of every table is collected and
raised once as :class:`~costperf.errors.InputError` naming file, row and column.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from costperf.errors import InputError, make_problems, raise_if_problems
from costperf.schemas import LOCATION, concat_problems
from costperf.standards import toml_text
from costperf.standards.format import (
    FRAME_COLUMNS,
    FRAME_TAIL,
    as_date,
    as_end_date,
    check_and_build,
)
from costperf.standards.format.keys import HeaderProblems

ENV_STANDARDS = "COSTPERF_STANDARDS"


@dataclass(frozen=True, eq=False)
class TableVersion:
    """One version of one standard table as read from its files.

    Attributes
    ----------
    header
        The parsed TOML header.
    raw
        The value rows as read (raw text cells, ``source_file``/``source_row``).
    values
        The long value lines of this version (see :func:`build_values`).
    header_file, values_file
        Where they came from.
    content_hash
        The computed fingerprint (equals the recorded one for published versions).
    """

    header: Mapping[str, object]
    raw: pd.DataFrame
    values: pd.DataFrame
    header_file: str
    values_file: str
    content_hash: str

    @property
    def table_id(self) -> str:
        return str(self.header["table_id"])

    @property
    def version(self) -> int:
        return int(self.header["version"])

    @property
    def status(self) -> str:
        return str(self.header["status"])

    @property
    def dims(self) -> list[str]:
        return list((self.header.get("dimensions") or {}).keys())

    @property
    def ref(self) -> str:
        return f"{self.table_id}@{self.version}"


@dataclass(frozen=True, eq=False)
class StandardSet:
    """A body of standard tables: every version of every table that was read.

    Attributes
    ----------
    values
        One row per value line per version, canonical columns.
    tables
        One row per table version (id, version, status, dates, document, hash ...).
    versions
        ``(table_id, version) -> TableVersion``.
    """

    values: pd.DataFrame
    tables: pd.DataFrame
    versions: Mapping[tuple[str, int], TableVersion]

    def table_ids(self) -> list[str]:
        """Ids of the tables held, sorted."""
        return sorted({k[0] for k in self.versions})

    def versions_of(self, table_id: str) -> list[TableVersion]:
        """Every version of ``table_id``, oldest first."""
        return [self.versions[k] for k in sorted(self.versions) if k[0] == table_id]

    def get(self, ref: str, *, latest: bool = False) -> TableVersion:
        """Resolve ``'table-id'`` or ``'table-id@3'``; InputError naming what exists.

        Without a version: the newest published or retired version (the newest draft
        when the table has no other), or the newest of all with ``latest=True``.
        """
        table_id, _, version = str(ref).partition("@")
        found = self.versions_of(table_id)
        if not found:
            known = ", ".join(self.table_ids()) or "none"
            msg = f"unknown standard table '{table_id}'; tables are: {known}"
            raise InputError(msg)
        if version:
            if not version.isdigit() or (table_id, int(version)) not in self.versions:
                have = ", ".join(str(v.version) for v in found)
                msg = f"table '{table_id}' has no version '{version}'; versions: {have}"
                raise InputError(msg)
            return self.versions[(table_id, int(version))]
        issued = [v for v in found if v.status != "draft"]
        return found[-1] if latest else (issued or found)[-1]

    def header(self, table_id: str, version: int) -> Mapping[str, object]:
        """The parsed header of one version."""
        return self.versions[(table_id, int(version))].header


# ---- effective periods ---------------------------------------------------------------


def effective_periods(tables: pd.DataFrame, *, include_drafts: bool = False) -> pd.DataFrame:
    """When each version is in force: from ``effective_from`` to the earlier of its own
    ``effective_to`` and the day before the next version of the same table starts.

    Returns
    -------
    DataFrame
        ``table_id, version, status, start, end`` (``end`` NaT = open), drafts included
        only with ``include_drafts``.
    """
    use = tables if include_drafts else tables[tables["status"] != "draft"]
    use = use.sort_values(["table_id", "effective_from", "version"])
    next_start = use.groupby("table_id")["effective_from"].shift(-1)
    superseded = next_start - pd.Timedelta(days=1)
    end = use["effective_to"].where(use["effective_to"].notna(), superseded)
    end = end.where(superseded.isna() | (end <= superseded), superseded)
    return pd.DataFrame(
        {
            "table_id": use["table_id"],
            "version": use["version"],
            "status": use["status"],
            "start": use["effective_from"],
            "end": end,
        }
    ).reset_index(drop=True)


def check_periods(tables: pd.DataFrame) -> pd.DataFrame:
    """Problems between versions of one table: duplicate versions, overlapping periods
    (declared ``effective_to`` after the next version's start, or two versions starting
    the same day), and gaps between a declared end and the next start (warning)."""
    rows = []
    dup = tables.duplicated(["table_id", "version"], keep=False)
    for r in tables[dup].itertuples():
        rows.append(
            {
                "source_file": r.header_file,
                "column": "version",
                "value": r.version,
                "expected": f"one file per version of '{r.table_id}' (version "
                f"{r.version} is in several files)",
                "check": "duplicate_version",
            }
        )
    issued = tables[tables["status"] != "draft"].sort_values(
        ["table_id", "effective_from", "version"]
    )
    for _, group in issued.groupby("table_id"):
        recs = list(group.itertuples())
        for prev, nxt in zip(recs, recs[1:], strict=False):
            _period_pair(prev, nxt, rows)
    headers: dict[str, HeaderProblems | None] = {}  # each header file read once
    for row in rows:  # the line of the date (or version) in its header file
        path = str(row["source_file"])
        if path not in headers:
            headers[path] = _header(path)
        found = headers[path]
        row["source_row"] = found.line_of(str(row["column"])) if found is not None else ""
    return make_problems(rows)


def _header(path: str) -> HeaderProblems | None:
    """The header file ``path``, to find its top-level keys' lines (None if unreadable)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    return HeaderProblems(path, text)


def _period_pair(prev: object, nxt: object, rows: list[dict[str, object]]) -> None:
    start, end = nxt.effective_from, prev.effective_to
    table, old, new = prev.table_id, prev.version, nxt.version
    if nxt.version < prev.version:
        rows.append(
            {
                "source_file": nxt.header_file,
                "column": "effective_from",
                "value": f"{start:%Y-%m-%d}",
                "expected": f"a later start than "
                f"version {prev.version} ({prev.effective_from:%Y-%m-%d}): versions "
                "take effect in order",
                "check": "version_order",
            }
        )
    elif start == prev.effective_from:
        rows.append(
            {
                "source_file": nxt.header_file,
                "column": "effective_from",
                "value": f"{start:%Y-%m-%d}",
                "expected": f"a start after "
                f"{prev.effective_from:%Y-%m-%d} ({table} v{old} and v{new} start the same day)",
                "check": "overlapping_periods",
            }
        )
    elif pd.notna(end) and end >= start:
        rows.append(
            {
                "source_file": prev.header_file,
                "column": "effective_to",
                "value": f"{end:%Y-%m-%d}",
                "expected": f"a date before "
                f"{start:%Y-%m-%d}, when version {nxt.version} takes effect "
                f"({table} v{old} and v{new} overlap)",
                "check": "overlapping_periods",
            }
        )
    elif pd.notna(end) and end + pd.Timedelta(days=1) < start:
        rows.append(
            {
                "source_file": prev.header_file,
                "column": "effective_to",
                "value": f"{end:%Y-%m-%d}",
                "expected": f"no gap before version "
                f"{nxt.version} starts on {start:%Y-%m-%d} (no {prev.table_id} table "
                "in force in between)",
                "check": "period_gap",
                "severity": "warning",
            }
        )


# ---- reading -------------------------------------------------------------------------


def default_standards_dir() -> Path:
    """The standards folder used when none is given.

    ``$COSTPERF_STANDARDS`` if set; else the shipped tables
    (:func:`package_standards_dir`).
    """
    env = os.environ.get(ENV_STANDARDS)
    if env:
        return Path(env)
    return package_standards_dir()


def package_standards_dir() -> Path:
    """The shipped tables: the repository's ``standards/`` folder, installed as the
    package ``costperf.standard_tables`` (one copy; see ``setup.py``)."""
    from importlib import resources

    return Path(str(resources.files("costperf.standard_tables")))


def header_files(source: str | Path | Iterable[str | Path] | None) -> list[Path]:
    """The header files (``*.toml``) named by a folder, a file or a list of them."""
    if source is None:
        source = default_standards_dir()
    items = [source] if isinstance(source, str | Path) else list(source)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found += sorted(path.rglob("*.toml"))
        elif path.suffix.lower() == ".csv" and path.with_suffix(".toml").exists():
            found.append(path.with_suffix(".toml"))
        elif path.exists():
            found.append(path)
        else:
            msg = f"{path}: no such standards folder or table file"
            raise InputError(msg)
    if not found:
        shown = ", ".join(str(i) for i in items)
        msg = f"{shown}: no standard tables (*.toml header files) found"
        raise InputError(msg)
    return found


def header_table_ids(source: str | Path | Iterable[str | Path] | None = None) -> set[str]:
    """The ``table_id`` of every header file of ``source`` (default: the shipped tables),
    read from the headers alone: for checks that only need the names (a request line's
    ``standard_id``), without reading and checking every table's values."""
    ids = set()
    for path in header_files(source):
        try:
            header, _ = read_header(path)
        except InputError:
            continue  # a broken header is reported where the table itself is read
        if isinstance(header.get("table_id"), str):
            ids.add(header["table_id"])
    return ids


def read_header(path: Path) -> tuple[dict[str, object], str]:
    """Parse one TOML header; InputError naming the file and line on a syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{path}: the header is not UTF-8 text ({exc})"
        raise InputError(msg) from exc
    except OSError as exc:
        msg = f"{path}: cannot read the header ({exc})"
        raise InputError(msg) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        problems = make_problems(
            [
                {
                    "source_file": str(path),
                    "source_row": int(line.group(1)) if line else "",
                    "column": "",
                    "value": "",
                    "check": "toml_syntax",
                    "expected": f"valid TOML ({exc})",
                }
            ]
        )
        msg = f"{path}: not valid TOML: {exc}"
        raise InputError(msg, problems) from exc


@lru_cache(maxsize=1)
def item_labels() -> dict[str, tuple[str, str]]:
    """``item code -> (label_zh, label_en)`` of the shipped tables' items (desk: 办公桌),
    for a message naming an item by its code."""
    from costperf.standards import package_standards_dir

    labels: dict[str, tuple[str, str]] = {}
    for path in sorted(package_standards_dir().glob("*.toml")):
        try:
            header, _ = read_header(path)
        except InputError:  # pragma: no cover - the shipped headers parse
            continue
        for code, item in (header.get("items") or {}).items():
            if isinstance(item, dict) and item.get("label_zh"):
                labels.setdefault(
                    str(code), (str(item["label_zh"]), str(item.get("label_en") or code))
                )
    return labels


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def load_table(path: Path) -> tuple[TableVersion | None, pd.DataFrame]:
    """Read and check one table; return it (None when it has errors) and its problems."""
    from costperf.io import read_table

    try:
        header, text = read_header(path)
    except InputError as exc:
        return None, _error_problems(exc, path)
    values_path = path.parent / str(header.get("values") or path.with_suffix(".csv").name)
    extra = {}
    peer_rows = (
        (header.get("source") or {}).get("peer_rows")
        if isinstance(header.get("source"), dict)
        else None
    )
    if isinstance(peer_rows, str):
        peer_path = path.parent / peer_rows
        if not peer_path.is_file():
            return None, make_problems(
                [
                    {
                        "source_file": str(path),
                        "column": "source.peer_rows",
                        "value": peer_rows,
                        "expected": f"the peer-rows file next to the header ({peer_path} not found)",
                        "check": "missing_file",
                    }
                ]
            )
        extra["peer_rows"] = _file_digest(peer_path)
    try:
        raw = read_table(values_path, header_row=1)
    except InputError as exc:
        return None, _error_problems(exc, values_path, hint=f"the value file of {path.name}")
    problems, values, digest = check_and_build(
        header, raw, header_file=str(path), header_text=text, extra=extra
    )
    if values is None or (problems["severity"] == "error").any():
        return None, problems
    table = TableVersion(
        header=header,
        raw=raw,
        values=values,
        header_file=str(path),
        values_file=str(values_path),
        content_hash=digest,
    )
    return table, problems


def _error_problems(exc: InputError, path: Path, hint: str = "") -> pd.DataFrame:
    if exc.problems is not None and not exc.problems.empty:
        return exc.problems
    expected = f"{hint}: {exc}" if hint else str(exc)
    return make_problems(
        [{"source_file": str(path), "expected": expected, "check": "unreadable_file"}]
    )


def load_standards(
    source: str | Path | Iterable[str | Path] | None = None,
) -> tuple[StandardSet, pd.DataFrame]:
    """Read every table it can; return the set of valid tables and all problems found.

    Tables with errors are left out of the set; their problems are in the frame.  Use
    :func:`read_standards` to raise instead.
    """
    tables, parts, refused = [], [], []
    for path in header_files(source):
        table, problems = load_table(path)
        parts.append(problems)
        if table is not None:
            tables.append(table)
        else:
            refused.append(path)
    summary = _summary(tables)
    # a version refused for its values (a duplicate line) still has its dates checked
    # against the other versions, so all problems of the folder come at once
    dated = [row for row in map(_period_row, refused) if row is not None]
    periods = pd.concat([summary, pd.DataFrame(dated)]) if dated else summary
    parts.append(check_periods(periods.reset_index(drop=True)))
    dup = set(
        map(
            tuple,
            summary.loc[
                summary.duplicated(["table_id", "version"], keep=False), ["table_id", "version"]
            ].to_numpy(),
        )
    )
    keep = {(t.table_id, t.version): t for t in tables if (t.table_id, t.version) not in dup}
    summary = summary[~summary.set_index(["table_id", "version"]).index.isin(list(dup))]
    standards = StandardSet(
        values=_long_frame(keep, summary),
        tables=summary.reset_index(drop=True),
        versions=dict(sorted(keep.items())),
    )
    return standards, concat_problems(parts)


def read_standards(source: str | Path | Iterable[str | Path] | None = None) -> StandardSet:
    """Read and validate standard tables; raise one InputError listing every problem.

    Parameters
    ----------
    source
        A folder (all ``*.toml`` headers below it), a header file, or a list of them.
        Default: :func:`default_standards_dir`.

    Returns
    -------
    StandardSet
        ``values`` (long frame of value lines), ``tables`` (one row per version) and
        ``versions``.
    """
    standards, problems = load_standards(source)
    raise_if_problems(problems, "the standard tables")
    return standards


_SUMMARY_COLUMNS = [
    "table_id",
    "version",
    "status",
    "kind",
    "title",
    "title_en",
    "issuer",
    "jurisdiction",
    "document_no",
    "source_document",
    "source_method",
    "effective_from",
    "effective_to",
    "in_force_to",
    "n_lines",
    "n_unverified",
    "unverified_fields",
    "scope_econ_codes",
    "content_hash",
    "header_file",
    "values_file",
]


def _period_row(path: Path) -> dict[str, object] | None:
    """The dates of a version refused for its values, for :func:`check_periods`; None
    when its header cannot say them (that problem is already reported)."""
    try:
        header, _ = read_header(path)
        start, end = as_date(header.get("effective_from")), as_end_date(header.get("effective_to"))
        version = header["version"]
        if start is None or isinstance(version, bool) or not isinstance(version, int):
            return None
        return {
            "table_id": str(header["table_id"]),
            "version": version,
            "status": str(header["status"]),
            "effective_from": pd.Timestamp(start),
            "effective_to": pd.Timestamp(end) if end else pd.NaT,
            "header_file": str(path),
        }
    except (InputError, KeyError, TypeError, ValueError):
        return None


def _summary(tables: list[TableVersion]) -> pd.DataFrame:
    rows = []
    for t in tables:
        h, source = t.header, t.header.get("source") or {}
        end = as_end_date(h.get("effective_to"))
        rows.append(
            {
                "table_id": t.table_id,
                "version": t.version,
                "status": t.status,
                "kind": h["kind"],
                "title": h["title"],
                "title_en": h.get("title_en", ""),
                "issuer": h["issuer"],
                "jurisdiction": h.get("jurisdiction", ""),
                "document_no": source.get("document_no", ""),
                "source_document": source.get("document", ""),
                "source_method": source.get("method", ""),
                "effective_from": pd.Timestamp(as_date(h["effective_from"])),
                "effective_to": pd.Timestamp(end) if end else pd.NaT,
                "n_lines": len(t.values),
                "n_unverified": int((~t.values["verified"]).sum()),
                "unverified_fields": "|".join(h.get("unverified", [])),
                "scope_econ_codes": "|".join(h.get("scope_econ_codes", [])),
                "content_hash": t.content_hash,
                "header_file": t.header_file,
                "values_file": t.values_file,
            }
        )
    frame = pd.DataFrame(rows, columns=_SUMMARY_COLUMNS)
    for col in ("effective_from", "effective_to", "in_force_to"):
        frame[col] = pd.to_datetime(frame[col])
    frame["version"] = frame["version"].astype("int64")
    periods = effective_periods(frame)
    ends = periods.set_index(["table_id", "version"])["end"]
    keys = pd.MultiIndex.from_frame(frame[["table_id", "version"]])
    frame["in_force_to"] = ends.reindex(keys).to_numpy() if len(frame) else frame["in_force_to"]
    frame["in_force_to"] = frame["in_force_to"].where(
        frame["status"] != "draft", frame["effective_to"]
    )
    return frame.sort_values(["table_id", "version"]).reset_index(drop=True)


def _long_frame(
    tables: Mapping[tuple[str, int], TableVersion], summary: pd.DataFrame
) -> pd.DataFrame:
    dims: list[str] = []
    for t in tables.values():
        dims += [d for d in t.dims if d not in dims]
    columns = [*FRAME_COLUMNS, *dims, *FRAME_TAIL]
    parts = [t.values for t in tables.values() if len(t.values)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    ends = summary.set_index(["table_id", "version"])["in_force_to"]
    keys = pd.MultiIndex.from_frame(frame[["table_id", "version"]])
    frame["effective_to"] = pd.to_datetime(ends.reindex(keys).to_numpy())
    return frame


# ---- writing -------------------------------------------------------------------------


def write_table_version(
    header: Mapping[str, object],
    raw: pd.DataFrame,
    folder: str | Path,
    *,
    stem: str | None = None,
    comment: str = "",
) -> tuple[Path, Path]:
    """Write a new table version as ``<stem>.toml`` + ``<stem>.csv`` in ``folder``.

    Refuses (InputError) when either file exists: versions are never overwritten.
    """
    from costperf.io import write_table, write_text

    folder = Path(folder)
    stem = stem or f"{header['table_id']}-v{header['version']}"
    toml_path, csv_path = folder / f"{stem}.toml", folder / f"{stem}.csv"
    existing = [str(p) for p in (toml_path, csv_path) if p.exists()]
    if existing:
        msg = (
            f"{', '.join(existing)}: already exists; a table version is never "
            "overwritten (choose another output folder or remove the draft first)"
        )
        raise InputError(msg)
    out_header = {k: v for k, v in header.items() if k != "values"}
    text = toml_text.dumps(out_header, comment=comment)
    values = raw.drop(columns=[c for c in LOCATION if c in raw.columns])
    write_table(values, csv_path, lang="en")  # the standards format: canonical
    try:
        write_text(text, toml_path)
    except BaseException:
        csv_path.unlink(missing_ok=True)
        raise
    return toml_path, csv_path


def seal_table(header_path: str | Path, others: pd.DataFrame | None = None) -> str:
    """Publish a draft: set ``status = "published"`` and record its content hash.

    ``others``: the tables of the set the draft belongs to (``StandardSet.tables``);
    a draft whose dates would collide with an issued version of its table there
    (same start, an earlier start than a lower version, inside a declared end) is
    refused, as ``costperf standards check`` would refuse the set after sealing.

    Returns the hash.  InputError if the table has errors or is not a draft; the
    file is unchanged then.
    """
    from costperf.io import write_text

    path = Path(header_path)
    if path.suffix.lower() != ".toml":
        path = path.with_suffix(".toml")
    table, problems = load_table(path)
    errors = (
        problems[(problems["severity"] == "error") & (problems["check"] != "content_hash")]
        if len(problems)
        else problems
    )
    raise_if_problems(errors, str(path))
    if table is None:
        raise_if_problems(problems, str(path))
        return ""
    if table.status != "draft":
        msg = f"{path}: status is '{table.status}'; only a draft can be sealed"
        raise InputError(msg)
    if others is not None:
        raise_if_problems(_sealing_periods(table, others), str(path))
    text = path.read_text(encoding="utf-8-sig")
    new_text = _set_top_level(text, "status", '"published"')
    new_text = _set_top_level(new_text, "content_hash", f'"{table.content_hash}"', after="status")
    parsed = tomllib.loads(new_text)
    expected = {**table.header, "status": "published", "content_hash": table.content_hash}
    if parsed != expected:  # pragma: no cover - guards the text surgery
        msg = f"{path}: could not rewrite the header safely; set status and content_hash by hand"
        raise InputError(msg)
    write_text(new_text, path)
    return table.content_hash


def _sealing_periods(table: TableVersion, others: pd.DataFrame) -> pd.DataFrame:
    """The period problems sealing ``table`` would add to the set ``others``."""
    mine = Path(table.header_file).resolve()
    rest = others[[Path(f).resolve() != mine for f in others["header_file"]]]
    sealed = _summary([table]).assign(status="published")
    before = check_periods(rest.reset_index(drop=True))
    after = check_periods(pd.concat([rest, sealed]).reset_index(drop=True))
    keys = ["source_file", "column", "value", "check"]
    known = set(map(tuple, before[keys].astype(str).to_numpy()))
    new = [tuple(row) not in known for row in after[keys].astype(str).to_numpy()]
    return after[new]


def _set_top_level(text: str, key: str, value: str, *, after: str | None = None) -> str:
    lines = text.splitlines()
    top_end = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(top_end):
        if pattern.match(lines[i]):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    anchor = re.compile(rf"^\s*{re.escape(after)}\s*=") if after else None
    at = next((i + 1 for i in range(top_end) if anchor and anchor.match(lines[i])), top_end)
    lines.insert(at, f"{key} = {value}")
    return "\n".join(lines) + "\n"


__all__ = [
    "StandardSet",
    "TableVersion",
    "check_periods",
    "default_standards_dir",
    "effective_periods",
    "header_files",
    "load_standards",
    "package_standards_dir",
    "read_header",
    "read_standards",
    "seal_table",
    "write_table_version",
]
