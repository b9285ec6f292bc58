"""Every figure of ``summary.json`` recomputed from the case CSVs with plain pandas.

Nothing of costperf is imported here: the case files are read with ``pd.read_csv`` and
the definitions are those written in the case and the README (unit cost = sum of
line-item amounts / 保洁面积 actual; standard = peer median per road grade after 1.5 IQR
screening within the grade, quantiles type 7, published rounded half-up to 0.01 yuan;
approved = min(requested, published standard x area target x sweeps adjustment), the
adjustment being the request's 日清扫频次 target / the peers' median for its grade;
rejected when there is no area target).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SANITATION, assert_close

DATA = SANITATION / "data"
AREA = "保洁面积"


def _csv(name: str) -> pd.DataFrame:
    frame = pd.read_csv(
        DATA / name, encoding="utf-8-sig", dtype={"项目编码": str, "project_id": str}
    )
    return frame.rename(columns={"项目编码": "project_id"})


def _units(projects: str, lines: str, outputs: str, value: str) -> pd.DataFrame:
    proj = _csv(projects)
    cost = _csv(lines).groupby("project_id")["金额（元）"].sum().rename("cost")
    outs = _csv(outputs)
    area = outs.loc[outs["indicator"] == AREA].set_index("project_id")[value].rename("area")
    frame = proj.set_index("project_id").join(cost).join(area)
    frame["unit_cost"] = frame["cost"] / frame["area"]
    return frame


@pytest.fixture(scope="module")
def peers() -> pd.DataFrame:
    return _units("projects.csv", "line_items.csv", "outputs.csv", "actual")


def _type7(values: np.ndarray, q: float) -> float:
    """Hyndman-Fan type 7 by hand: interpolate at h = (n - 1) q on the sorted values."""
    x = np.sort(values)
    h = (len(x) - 1) * q
    lo = int(np.floor(h))
    hi = min(lo + 1, len(x) - 1)
    return float(x[lo] + (h - lo) * (x[hi] - x[lo]))


@pytest.fixture(scope="module")
def standards(peers: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for grade, cell in peers.groupby("道路等级"):
        x = cell["unit_cost"].to_numpy()
        q1, q3 = _type7(x, 0.25), _type7(x, 0.75)
        fence_lo, fence_hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        keep = (x >= fence_lo) & (x <= fence_hi) if len(x) >= 4 else np.ones(len(x), bool)
        kept = x[keep]
        rows[grade] = {
            "value": _type7(kept, 0.5),
            "lower": _type7(kept, 0.25),
            "upper": _type7(kept, 0.75),
            "n_peers": int(keep.sum()),
            "n_excluded": int((~keep).sum()),
            "peers_used": ";".join(sorted(cell.index[keep])),
        }
    return pd.DataFrame(rows).T


def test_contract_unit_costs(good_run: dict, peers: pd.DataFrame) -> None:
    got = pd.DataFrame(good_run["summary"]["contracts"]).set_index("project_id")
    assert sorted(got.index) == sorted(peers.index)
    got = got.loc[peers.index]
    assert_close(got["total_cost"], peers["cost"], what="total_cost")
    assert_close(got["output_quantity"], peers["area"], what="area")
    assert_close(got["unit_cost"], peers["unit_cost"], what="unit_cost")
    assert got["district"].tolist() == peers["区域"].tolist()
    assert got["road_grade"].tolist() == peers["道路等级"].tolist()
    assert good_run["summary"]["n_contracts"] == len(peers)


def test_district_unit_costs(good_run: dict, peers: pd.DataFrame) -> None:
    sums = peers.groupby("区域")[["cost", "area"]].sum()
    expected = sums["cost"] / sums["area"]
    got = pd.DataFrame(good_run["summary"]["districts"]).set_index("district")
    assert sorted(got.index) == sorted(expected.index)
    assert_close(got.loc[expected.index, "unit_cost"], expected, what="district unit cost")
    assert_close(got.loc[expected.index, "total_cost"], sums["cost"])
    assert_close(got.loc[expected.index, "n"], peers.groupby("区域").size())


def test_standards_are_screened_peer_medians(good_run: dict, standards: pd.DataFrame) -> None:
    got = pd.DataFrame(good_run["summary"]["standards"]).set_index("road_grade")
    assert sorted(got.index) == sorted(standards.index)
    got = got.loc[standards.index]
    for col in ("value", "lower", "upper"):
        assert_close(got[f"{col}_exact"], standards[col].astype(float), what=col)
        published = standards[col].astype(float).map(_half_up)
        assert_close(got[col], published, rtol=0, atol=1e-12, what=f"{col} published")
    assert got["n_peers"].tolist() == standards["n_peers"].tolist()
    assert got["n_excluded"].tolist() == standards["n_excluded"].tolist()
    assert got["peers_used"].tolist() == standards["peers_used"].tolist()
    assert (got["standard_id"] == "HW-UC").all() and (got["version"] == "2026.1").all()


def test_screening_excludes_something_in_this_case(standards: pd.DataFrame) -> None:
    # guards the test above: the case must exercise the outlier fences
    assert standards["n_excluded"].sum() > 0


def test_cost_index(good_run: dict, peers: pd.DataFrame, standards: pd.DataFrame) -> None:
    std = peers["道路等级"].map(standards["value"].astype(float))
    expected_cost = peers["area"] * std
    got = pd.DataFrame(good_run["summary"]["contracts"]).set_index("project_id")
    assert_close(got.loc[peers.index, "cost_index"], peers["cost"] / expected_cost * 100)
    sums = (
        pd.DataFrame({"cost": peers["cost"], "expected": expected_cost, "district": peers["区域"]})
        .groupby("district")
        .sum()
    )
    districts = pd.DataFrame(good_run["summary"]["districts"]).set_index("district")
    assert_close(districts.loc[sums.index, "cost_index"], sums["cost"] / sums["expected"] * 100)


def _half_up(x: float) -> float:
    """Half-up to 0.01 by hand (Python's round() is half-even on binary floats)."""
    return float(np.floor(x * 100 + 0.5) / 100)


def _sweeps(outputs: str, value: str) -> pd.Series:
    outs = _csv(outputs)
    return outs.loc[outs["indicator"] == "日清扫频次"].set_index("project_id")[value]


@pytest.fixture(scope="module")
def review(standards: pd.DataFrame, peers: pd.DataFrame) -> pd.DataFrame:
    req = _units("requests.csv", "request_lines.csv", "request_outputs.csv", "target")
    std = req["道路等级"].map(standards["value"].astype(float).map(_half_up))
    norm = peers.join(_sweeps("outputs.csv", "actual").rename("s")).groupby("道路等级")["s"]
    factor = req.index.map(_sweeps("request_outputs.csv", "target")) / req["道路等级"].map(
        norm.median()
    )
    cap = (std * req["area"] * factor).round(2)
    no_target = req["area"].isna() | (req["area"] <= 0)
    approved = np.where(
        no_target, 0.0, np.where(std.isna(), req["cost"], np.minimum(req["cost"], cap))
    )
    return req.assign(cap=cap, approved=approved, no_target=no_target)


def test_review_totals(good_run: dict, review: pd.DataFrame) -> None:
    totals = good_run["summary"]["review"]["totals"]
    assert totals["requests"] == len(review)
    assert_close(totals["requested"], review["cost"].sum())
    assert_close(totals["approved"], review["approved"].sum())
    assert_close(totals["cut"], review["cost"].sum() - review["approved"].sum())
    assert_close(totals["cut_rate"], 1 - review["approved"].sum() / review["cost"].sum(), rtol=1e-7)
    assert totals["n_reject"] == int(review["no_target"].sum()) == 1


def test_review_per_request(good_run: dict, review: pd.DataFrame) -> None:
    got = pd.DataFrame(good_run["summary"]["review"]["projects"]).set_index("project_id")
    got = got.loc[review.index]
    assert_close(got["requested"], review["cost"])
    assert_close(got["approved"], review["approved"])
    assert_close(got["approved"] + got["cut"], got["requested"])
    decision = np.where(
        review["no_target"], "reject", np.where(review["cost"] > review["cap"], "reduce", "approve")
    )
    assert got["decision"].tolist() == decision.tolist()
    assert set(decision) == {"approve", "reduce", "reject"}  # the case exercises all three
