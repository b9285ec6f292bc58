"""numpy's test and f2py modules are loaded at first use, not by SciPy's namespace copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = """
import json, sys
from costperf.lazy_imports import defer_numpy_extras
defer_numpy_extras()
import scipy.sparse, scipy.special
before = {m: m in sys.modules for m in ("unittest", "charset_normalizer")}
import numpy
from numpy.testing import assert_allclose
assert_allclose(scipy.special.ndtri(0.5), 0.0)
print(json.dumps({
    "unittest_before": before["unittest"],
    "charset_before": before["charset_normalizer"],
    "testing_works": callable(numpy.testing.assert_array_equal),
    "f2py_works": callable(numpy.f2py.run_main),
    "unittest_after": "unittest" in sys.modules,
}))
"""


def probe(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_scipy_imports_without_numpy_testing_and_f2py_until_used():
    got = probe(PROBE)
    assert got == {
        "unittest_before": False,  # numpy.testing (which imports unittest) not run by SciPy
        "charset_before": False,  # nor numpy.f2py (which imports charset_normalizer)
        "testing_works": True,  # both work when used
        "f2py_works": True,
        "unittest_after": True,
    }


def test_an_imported_numpy_testing_is_left_as_it_is():
    got = probe(
        "import json, sys, numpy.testing as t\n"
        "from costperf.lazy_imports import defer_numpy_extras\n"
        "defer_numpy_extras()\n"
        "print(json.dumps({'same': sys.modules['numpy.testing'] is t,"
        " 'bound': __import__('numpy').testing is t}))"
    )
    assert got == {"same": True, "bound": True}
