"""Solvers print nothing on stdout: costperf's own account is all a user sees there."""

from __future__ import annotations

import numpy as np

from costperf.benchmark.frontier import solve_dea
from costperf.solvers import quiet_highs


def test_quiet_highs_prints_no_banner(capfd):
    h = quiet_highs(presolve="off")
    h.run()  # an empty model
    out, err = capfd.readouterr()
    assert out == ""
    assert "HiGHS" not in err


def test_dea_prints_nothing_and_survives_an_earlier_highs_model(capfd):
    """HiGHS's scheduler is process-wide: a model solved before the DEA must not break it
    (it did when the DEA asked for threads=1)."""
    import pandas as pd

    quiet_highs().run()

    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 3.0]})
    y = pd.DataFrame({"q": [1.0, 1.0, 1.0]})
    scores = solve_dea(x, y, rts="vrs")
    # unit 3 (3, 3) against half of units 1 and 2: (1.5, 1.5), so theta = 0.5
    assert np.isclose(scores["efficiency_in"].min(), 0.5)
    out, _ = capfd.readouterr()
    assert out == ""


def test_every_highs_instance_runs_on_the_same_one_thread():
    """A MILP's plan must not depend on the machine's cores (HiGHS's default is half of
    them, and the case's savings plan differed on 1, 2 and 4 threads), and the scheduler
    is process-wide: every instance asks for the same count."""
    from costperf.solvers import THREADS

    assert THREADS == 1
    for options in ({}, {"presolve": "off"}, {"mip_rel_gap": 1e-6}):
        h = quiet_highs(**options)
        assert h.getOptionValue("threads")[1] == THREADS
