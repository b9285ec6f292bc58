"""Generate the illustrative model of the household-survey case (fixed seed).

A district's household survey must complete ``COMPLETES`` household interviews. The
current plan, like the one the district ran, is face-to-face only: interviewers visit
each sampled household and revisit the ones not reached. The resources are the
attempts of each mode, with a realistic cost per attempt and completion rate:

=============  ===========================  ==================  ===============
mode           cost per attempt (centre)    completion rate     what it buys
=============  ===========================  ==================  ===============
面访首访        800 yuan                     0.62                interviewer day share, transport, gift, supervision, back-check
面访回访        1,150 yuan                   0.30                appointment, repeated travel, evening/weekend premium
电话访问        95 yuan                      0.22                CATI seat time per sampled number (most calls fail)
网络问卷        38 yuan                      0.25                platform, SMS invitation, incentive paid on completion
=============  ===========================  ==================  ===============

The costs are drawn around these centres with a seeded generator (``SEED``), so they
are illustrative, not any survey's invoice. Constraints:

* ``completes`` (baseline): completed households >= ``COMPLETES``;
* ``face_to_face_share`` (policy): face-to-face completes >= 40 % of all completes
  (quality floor: the survey's key module needs an interviewer);
* ``revisit_pool`` (policy): revisits <= twice the first visits not completed (38 %);
* ``phone_frame``, ``online_panel`` (limits): sampled phone numbers and panel invites
  available.

Run from the repository root:  python cases/household-survey/generate.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COMPLETES = 2000
FACE_TO_FACE_SHARE = 0.40
# mode: (label, unit, cost centre, completion rate, face-to-face, current attempts)
MODES = {
    "f2f_first": ("入户面访（首访）", "户次", 800.0, 0.62, True, 2400),
    "f2f_revisit": ("入户面访（回访）", "户次", 1150.0, 0.30, True, 1707),
    "phone": ("电话访问", "个号码", 95.0, 0.22, False, 0),
    "online": ("网络问卷", "份邀请", 38.0, 0.25, False, 0),
}
REVISITS = 2  # at most two revisits per household not reached at the first visit
PHONE_NUMBERS = 3000
PANEL_INVITES = 4000


def main() -> None:
    rng = np.random.default_rng(SEED)
    costs = {m: round(v[2] * rng.uniform(0.97, 1.03), 0) for m, v in MODES.items()}
    resources = pd.DataFrame(
        [
            {
                "资源编码": mode,
                "名称": label,
                "单位": unit,
                "单位成本": costs[mode],
                "是否取整": "是",
                "下限": 0,
                "上限": "",
                "现状数量": current,
            }
            for mode, (label, unit, _, _, _, current) in MODES.items()
        ]
    )
    rate = {m: v[3] for m, v in MODES.items()}
    f2f = [m for m, v in MODES.items() if v[4]]
    constraints = pd.DataFrame(
        [
            ("completes", "完成有效样本户数", "绩效基线", ">=", COMPLETES, "户"),
            ("face_to_face_share", "面访完成户数占比不低于40%", "政策约束", ">=", 0, "户"),
            ("revisit_pool", "回访户次不超过首访未完成户数的2倍", "政策约束", "<=", 0, "户次"),
            ("phone_frame", "可用电话号码数", "资源限制", "<=", PHONE_NUMBERS, "个"),
            ("online_panel", "可邀请网络样本数", "资源限制", "<=", PANEL_INVITES, "份"),
        ],
        columns=["约束编码", "名称", "类型", "方向", "右端值", "单位"],
    )
    share = FACE_TO_FACE_SHARE
    coefficients = pd.DataFrame(
        [("completes", m, rate[m]) for m in MODES]
        # face-to-face completes - 40 % of all completes >= 0
        + [("face_to_face_share", m, rate[m] * ((m in f2f) - share)) for m in MODES]
        + [
            ("revisit_pool", "f2f_revisit", 1.0),
            ("revisit_pool", "f2f_first", -REVISITS * (1 - rate["f2f_first"])),
            ("phone_frame", "phone", 1.0),
            ("online_panel", "online", 1.0),
        ],
        columns=["约束编码", "资源编码", "系数"],
    )
    coefficients["系数"] = coefficients["系数"].round(6)
    DATA.mkdir(exist_ok=True)
    for name, frame in (
        ("resources", resources),
        ("constraints", constraints),
        ("coefficients", coefficients),
    ):
        frame.to_csv(DATA / f"{name}.csv", index=False, encoding="utf-8-sig")


if __name__ == "__main__":
    main()
