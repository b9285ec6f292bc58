"""Gap decomposition within dimension cells, and the mean effects of groups of units.

Contracts are compared within their dimension cell (e.g. road grade), so the mix of
grades does not masquerade as a driver. ``costperf run`` and ``costperf decompose
--group`` both average effects with :func:`group_effects`, so they report the same
district effects for the same data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.decompose.gap import decompose_gap, peer_reference
from costperf.errors import ParameterError
from costperf.params import GapParams


def gap_by_cell(
    units: pd.DataFrame,
    dims: Sequence[str],
    params: GapParams,
    *,
    id_column: str = "project_id",
    target: str = "unit_cost",
    group: str = "district",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each unit's gap to its cell's reference, split into the drivers.

    The reference of a cell is the peer statistic (``params.statistic``) of each driver
    and of the unit cost, or the medians of a named district's contracts in the cell.
    The ``residual`` driver carries the difference between the reference unit cost and
    the product of the reference drivers (and whatever the drivers leave out), so the
    effects add up to the whole gap. Additive effects are in yuan per output unit.

    Parameters
    ----------
    units
        One row per unit: ``id_column``, ``group`` (e.g. district), ``target`` (the unit
        cost [yuan per output unit]), the ``dims`` and the drivers.
    dims
        Dimension columns (one reference per cell); none: one cell.
    params
        Drivers, their scale (drivers multiply to unit cost x scale), method, reference
        (``params.district``: a value of ``group`` whose units are the reference).

    Returns
    -------
    gap, reference
        ``gap``: :func:`~costperf.decompose.gap.decompose_gap` rows per unit and driver,
        with the ``dims`` and ``group``; values and additive effects back in the
        target's units. ``reference``: per cell, the reference target and drivers.
    """
    drivers = list(params.drivers)
    dims = list(dims)
    scale = params.scale
    scaled = units.assign(scaled_unit_cost=units[target] * scale)
    if params.district is not None:
        _check_district(units, params.district, group)
    cells = scaled.groupby(dims, sort=False) if dims else [((), scaled)]
    parts, references = [], []
    for key, cell in cells:
        peers = cell if params.district is None else cell[cell[group] == params.district]
        if peers.empty:  # the named district has no contract of this grade
            continue
        reference = peer_reference(
            peers, drivers, statistic=params.statistic, target="scaled_unit_cost"
        )
        part = decompose_gap(
            cell,
            reference,
            drivers,
            method=params.method,
            id_column=id_column,
            target="scaled_unit_cost",
        )
        key = key if isinstance(key, tuple) else (key,)
        for dim, value in zip(dims, key, strict=True):
            part[dim] = value
        parts.append(part)
        ref = reference.rename({"scaled_unit_cost": target})
        ref[target] = ref[target] / scale
        references.append(pd.Series(dict(zip(dims, key, strict=True))).combine_first(ref))
    gap = rescale_gap(pd.concat(parts, ignore_index=True), scale, params.method, divide=True)
    if group in units:
        gap[group] = gap["unit"].map(units.set_index(id_column)[group])
    reference_table = pd.DataFrame(references)[[*dims, target, *drivers]]
    return gap, reference_table


def rescale_gap(
    gap: pd.DataFrame, factor: float, method: str, *, divide: bool = False
) -> pd.DataFrame:
    """Values, gaps and additive effects multiplied (or divided) by ``factor``: back in
    the target's own units after decomposing a scaled target. Ratios and factor effects
    are unchanged."""
    out = gap.copy()
    columns = ["unit_value", "reference_value", "gap"]
    if method != "lmdi_multiplicative":  # additive effects are linear in the value scale
        columns.append("effect")
    for column in columns:
        values = out[column].astype(float)
        out[column] = values / factor if divide else values * factor
    for column in ("unit_driver_value", "reference_driver_value"):
        out[column] = out[column].astype(float)
    return out


def _check_district(units: pd.DataFrame, district: str, group: str) -> None:
    known = sorted(units[group].dropna().astype(str).unique())
    if district not in known:
        msg = (
            f"{group} '{district}' has no peer contract to be the reference; "
            f"{group} values: {', '.join(known)}"
        )
        raise ParameterError(msg, "district")


def decomposed(gap: pd.DataFrame, method: str) -> pd.DataFrame:
    """Rows of the units with every effect defined (for factors: finite and > 0, and a
    ratio > 0, so geometric means exist)."""
    if method == "lmdi_multiplicative":
        ok = np.isfinite(gap["effect"]) & (gap["effect"] > 0) & (gap["ratio"] > 0)
    else:
        ok = gap["effect"].notna()
    return gap[ok.groupby(gap["unit"]).transform("all")]


def group_effects(gap: pd.DataFrame, group: str, method: str) -> pd.DataFrame:
    """Per group and driver: the mean effect, and the group's mean values and gap.

    Only units with every effect defined count (:func:`decomposed`), for the effects and
    the values alike, so a group's mean effects add up to its mean gap (for the
    multiplicative method: the geometric-mean effects multiply to the geometric-mean
    ratio).

    Returns
    -------
    DataFrame
        ``group``, ``driver``, ``effect`` (mean; geometric mean for factors),
        ``n_units``, ``unit_value``, ``reference_value``, ``gap`` (means over the
        group's decomposed units) and ``ratio`` (geometric mean, multiplicative only);
        groups and drivers in their first-seen order.
    """
    done = decomposed(gap, method)
    if method == "lmdi_multiplicative":
        log_effect = np.log(done["effect"].astype(float))
        by = [done[group], done["driver"]]
        effect = np.exp(log_effect.groupby(by, sort=False, dropna=False).mean())
    else:
        effect = done.groupby([group, "driver"], sort=False, dropna=False)["effect"].mean()
    table = effect.rename("effect").reset_index()
    units = done.drop_duplicates("unit").groupby(group, sort=False, dropna=False)
    means = units[["unit_value", "reference_value", "gap"]].mean()
    means.insert(0, "n_units", units.size())
    if method == "lmdi_multiplicative":
        means["ratio"] = units["ratio"].agg(lambda r: float(np.exp(np.log(r).mean())))
    return table.join(means, on=group)
