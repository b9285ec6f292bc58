"""Unit costs of resources: given in the table, or a standard in force on the case date."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from costperf.errors import Check, empty_problems
from costperf.schemas import row_problems


def resolve_unit_costs(
    resources: pd.DataFrame, standards: object | None, on: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fill ``unit_cost`` from ``standard_id`` where the table names a standard.

    Parameters
    ----------
    resources
        Normalised resources (:func:`~costperf.optimize.tables.normalise_model`).
    standards
        A :class:`~costperf.standards.StandardSet` (None: no resource may name one).
    on
        The date whose version in force applies.

    Returns
    -------
    resources, standards_used, problems
        Resources with ``unit_cost``, ``unit_cost_source`` (``input`` or ``id@version``)
        and ``standard_version``; one ``standards_used`` row per standard applied
        (``standard_id``, ``version``, ``dims``, ``value``, ``provenance``); a problem
        for each standard that is unknown or not in force on ``on``.
    """
    out = resources.copy()
    out["unit_cost_source"] = "input"
    out["standard_version"] = None
    named = out["standard_id"].notna()
    used = pd.DataFrame(columns=["standard_id", "version", "dims", "value", "provenance"])
    if not named.any():
        return out, used, empty_problems()
    if standards is None:
        status = pd.Series("no standard tables were given", index=out.index[named])
        return out, used, _unknown(out, named, status, on)
    from costperf.standards import lookup_values

    found = lookup_values(standards, out.loc[named, ["standard_id"]], on=on.isoformat())
    ok = found["lookup_status"].eq("ok")
    bad = pd.Series(False, index=out.index)
    bad.loc[found.index[~ok]] = True
    problems = _unknown(out, bad, found.loc[~ok, "lookup_status"], on)
    hit = found[ok]
    out.loc[hit.index, "unit_cost"] = hit["value"].astype(float)
    versions = hit["version"].astype(int).astype(str)
    out.loc[hit.index, "standard_version"] = versions
    out.loc[hit.index, "unit_cost_source"] = hit["standard_id"].astype(str) + "@" + versions
    if len(hit):
        first = hit.drop_duplicates("standard_id")
        used = pd.DataFrame(
            {
                "standard_id": first["standard_id"].astype(str).to_numpy(),
                "version": first["version"].astype(int).astype(str).to_numpy(),
                "dims": "",
                "value": first["value"].astype(float).to_numpy(),
                "provenance": [
                    json.dumps(
                        {
                            "table_id": t,
                            "document_no": d,
                            "on": on.isoformat(),
                            "use": "optimiser unit cost",
                        },
                        ensure_ascii=False,
                    )
                    for t, d in zip(first["table_id"], first["document_no"], strict=True)
                ],
            }
        )
    return out, used, problems


def _unknown(frame: pd.DataFrame, mask: pd.Series, status: pd.Series, on: dt.date):
    if not mask.any():
        return empty_problems()
    problems = row_problems(frame, mask, "standard_id", "", Check.UNKNOWN_STANDARD)
    problems["expected"] = [
        f"a standard in force on {on.isoformat()} ({s})" for s in np.asarray(status, dtype=object)
    ]
    return problems
