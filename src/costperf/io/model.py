"""Reading the optimiser's three tables (resources, constraints, coefficients).

Each is read like any input (:func:`costperf.io.read.read_table`: CSV, XLSX or Parquet,
Chinese or English headers, every row located), its headers mapped to canonical names
(名称 is the label, 类型/kind the constraint kind, 系数 the coefficient here), typed by
its schema; then the three are checked across each other. Every problem of every file
is raised at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from costperf.errors import InputError, held_problems, make_problems, raise_all
from costperf.io.read import blank_cells, map_headers, read_table
from costperf.schemas import concat_problems, merge_problems

TABLE_NAMES = ("resources", "constraints", "coefficients")
NO_BOUND = ("inf", "+inf", "infinity", "∞", "无上限", "不限", "none")


def read_model_table(
    path: str | Path, name: str, *, sheet: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and type one table of the model: ``(typed, errors)``, every cell in error
    blanked, so that the checks across the tables run too and all problems come at once;
    a table missing a required column raises."""
    from costperf.errors import raise_if_problems
    from costperf.optimize.tables import HEADER_MEANINGS, SCHEMAS, check_table

    raw = read_table(path, sheet=sheet)
    frame, _ = map_headers(raw)
    meanings = {k: v for k, v in HEADER_MEANINGS.items() if k in frame and v not in frame}
    renamed = frame.rename(columns=meanings)
    headers = dict(frame.attrs.get("headers", {}))
    for old, new in meanings.items():
        headers[new] = headers.pop(old, old)
    renamed.attrs = {**frame.attrs, "headers": headers}
    if "upper" in renamed:  # "inf", "∞" or "无上限" mean no upper bound, as a blank does
        words = renamed["upper"].astype(object).map(str, na_action="ignore").str.strip()
        unbounded = words.str.lower().isin(NO_BOUND).fillna(False).astype(bool)
        renamed["upper"] = renamed["upper"].where(~unbounded)
    typed, problems = SCHEMAS[name].validate(renamed)
    if not problems.empty and "missing_column" in set(problems["check"]):
        raise_if_problems(problems, f"{path}")
    found = _as_typed(check_table(name, typed), renamed)
    problems = merge_problems([problems, found])  # a cell "not a number" is not also "blank"
    warnings = problems[problems["severity"] == "warning"] if len(problems) else problems
    errors = problems[problems["severity"] != "warning"] if len(problems) else problems
    typed = blank_cells(typed, errors)
    typed.attrs["warnings"] = held_problems(
        concat_problems([make_problems(raw.attrs.get("read_warnings", [])), warnings])
    )
    return typed, errors.reset_index(drop=True)


def _as_typed(problems: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Show each problem's cell as the user typed it (``12``, not the parsed ``12.0``)."""
    if problems.empty:
        return problems
    names = {shown: name for name, shown in raw.attrs.get("headers", {}).items()}
    cells = raw.set_index("source_row")
    shown = [
        str(cells.at[row, names.get(col, col)])
        if names.get(col, col) in cells.columns and row in cells.index
        else value
        for row, col, value in zip(
            problems["source_row"], problems["column"], problems["value"], strict=True
        )
    ]
    return problems.assign(value=shown)


def read_model_tables(
    paths: Mapping[str, Path], *, standards_dir: Path | None = None, on: object = None
):
    """Read the three tables, check them together, fill unit costs from standards.

    Resources naming a ``standard_id`` get the value in force on ``on`` from the tables
    in ``standards_dir`` (default: the shipped tables), which are read only then.

    Returns :class:`costperf.optimize.ModelTables`; raises one :class:`InputError`
    carrying every problem of every file.
    """
    from costperf.optimize import prepare_model

    frames, errors, cells = {}, [], []
    for name in TABLE_NAMES:
        try:  # a bad cell is blanked and reported, and the checks across the tables go on
            frames[name], found = read_model_table(paths[name], name)
        except InputError as exc:  # read every file, then report all of them
            errors.append(exc)
            continue
        cells.append(found)
    if errors:  # a file unread: nothing to link
        raise_all(errors, cells, "the optimiser's tables")
    from costperf.optimize.tables import check_groups, check_links

    links = check_links(frames["resources"], frames["constraints"], frames["coefficients"])
    found = merge_problems([*cells, links, check_groups(frames["resources"])])
    raise_all([], [found], "the optimiser's tables")
    named = frames["resources"].get("standard_id")
    standards = None
    if named is not None and named.notna().any():
        from costperf.standards import read_standards, shipped_standards

        standards = read_standards(standards_dir) if standards_dir else shipped_standards()
    tables, problems = prepare_model(
        frames["resources"],
        frames["constraints"],
        frames["coefficients"],
        standards=standards,
        on=on,
    )
    raise_all([], [problems], "the optimiser's tables")
    return tables


def model_paths(folder: Path) -> dict[str, Path]:
    """``resources``/``constraints``/``coefficients`` files in a folder (any known suffix).

    A missing table, or one table in two files (``resources.csv`` and ``resources.xlsx``:
    which one is meant is unclear), is an :class:`InputError` naming the folder and the
    files; every table's at once.
    """
    from costperf.errors import InputError, located_error, merge_errors

    if not Path(folder).is_dir():  # one error, not three missing tables
        msg = (
            f"{folder}: not a folder; --model expects a folder holding the resources, "
            "constraints and coefficients tables"
        )
        raise InputError(msg)
    found, errors = {}, []
    for name in TABLE_NAMES:
        hits = [folder / f"{name}{s}" for s in (".csv", ".xlsx", ".parquet")]
        hits = [p for p in hits if p.is_file()]
        if not hits:
            msg = (
                f"{folder}: no {name} table; expected {name}.csv, {name}.xlsx or "
                f"{name}.parquet in the --model folder"
            )
            files = ", ".join(f"{name}{s}" for s in (".csv", ".xlsx", ".parquet"))
            expected = f"one of the files {files} in the --model folder"
            errors.append(
                located_error(msg, source_file=folder, check="missing_file", expected=expected)
            )
        elif len(hits) > 1:
            names = [p.name for p in hits]
            msg = f"{folder}: {' and '.join(names)} are both the {name} table; keep one of them"
            expected = "one file per table (resources, constraints, coefficients)"
            errors.append(
                located_error(
                    msg,
                    source_file=folder,
                    value=", ".join(names),
                    check="ambiguous_table",
                    expected=expected,
                )
            )
        else:
            found[name] = hits[0]
    if errors:
        raise merge_errors(errors)
    return found
