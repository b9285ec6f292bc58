"""Formulas and expressions from configs and the command line never run as Python.

Each attack carries a canary: code that would create a file if it ran.  The test
asserts the exact exit status / error and that the canary file does not exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import copy_case, read_problems
from costperf.benchmark.costmodel import fit_cost_model
from costperf.cli import main
from costperf.decompose.unit_costs import evaluate_drivers
from costperf.errors import InputError
from costperf.expressions import (
    ExpressionError,
    check_expression,
    check_formula,
    evaluate_expression,
)


def _attack(canary: Path) -> str:
    """The formula from issue 12, creating ``canary`` if Python ever evaluates it."""
    return (
        "np.log(unit_cost) ~ I(np.__builtins__['__import__']('os')"
        f".system('touch {canary}')*0 + wage_index)"
    )


ATTACKS = [
    "np.__builtins__['__import__']('os').system('touch {c}')",
    "__import__('os').system('touch {c}')",
    "open('{c}', 'w')",
    "np.lib.npyio.savetxt('{c}', [1])",
    "np.savetxt('{c}', [1])",
    "(lambda: __import__('os').system('touch {c}'))()",
    "[x for x in ().__class__.__base__.__subclasses__()]",
    "Q('__builtins__')['open']('{c}', 'w')",
    "C(wage_index).__class__",
    "np.log(wage_index, out=np.log.__self__)",
    "eval('1')",
    'f\'{{open("{c}", "w")}}\'',
]


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "an expression from the user ran as Python"


@pytest.fixture
def units() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    wage = rng.uniform(0.8, 1.2, 12)
    return pd.DataFrame(
        {
            "unit_cost": 10 * wage * rng.uniform(0.9, 1.1, 12),
            "wage_index": wage,
            "grade": ["A", "B", "C"] * 4,
            "source_file": "units.csv",
            "sheet": "",
            "source_row": range(2, 14),
        }
    )


# ---- the checker -----------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS)
def test_formula_attacks_are_refused_before_patsy(attack: str, canary: Path, units) -> None:
    formula = "np.log(unit_cost) ~ " + attack.format(c=canary)
    with pytest.raises(ExpressionError, match="--model") as caught:
        check_formula(formula, what="--model")
    assert caught.value.problems["check"].iloc[0] in ("unsafe_expression", "bad_expression")
    with pytest.raises(InputError):
        fit_cost_model(units, formula)


@pytest.mark.parametrize("attack", ATTACKS)
def test_driver_attacks_are_refused(attack: str, canary: Path, units) -> None:
    with pytest.raises(InputError, match=r"driver 'x' = .* in \[drivers\] cannot be evaluated"):
        evaluate_drivers(units, {"x": attack.format(c=canary)})


def test_the_issue_formula_names_the_offending_attribute(canary: Path) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_formula(_attack(canary), what="[benchmark] formula", source_file="case.toml")
    error = caught.value
    assert error.name == "np.__builtins__"
    assert str(error).startswith("case.toml: [benchmark] formula: formula ")
    row = error.problems.iloc[0]
    assert (row["source_file"], row["column"], row["value"], row["check"]) == (
        "case.toml",
        "[benchmark] formula",
        "np.__builtins__",
        "unsafe_expression",
    )


@pytest.mark.parametrize(
    ("formula", "names"),
    [
        (
            "np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)",
            ["unit_cost", "wage_index", "road_grade"],
        ),
        ("y ~ x + I(x ** 2) + a:b - 1", ["y", "x", "a", "b"]),
        ("~ power(x, 2) + abs(z) + sqrt(w) + exp(v) + log10(u)", ["x", "z", "w", "v", "u"]),
        ("y ~ numpy.exp(x) + C(g, Treatment(reference='b'))", ["y", "x", "g"]),
        ("np.log(单位成本) ~ np.log(工资指数) + Q('金额 元')", ["单位成本", "工资指数", "金额 元"]),
        ("y ~ center(x) + standardize(z) + (a + b):c", ["y", "x", "z", "a", "b", "c"]),
    ],
)
def test_ordinary_formulas_pass_and_name_their_columns(formula: str, names: list[str]) -> None:
    assert check_formula(formula) == names


@pytest.mark.parametrize(
    ("formula", "name"),
    [
        ("y ~ x.real", "x.real"),
        ("y ~ np", "np"),
        ("y ~ __x__", "__x__"),
        ("y ~ x[0]", "x[0]"),
        ("y ~ bs(x, 3)", "bs"),
        ("y ~ np.random.rand(3)", "np.random"),
        ("y ~ x # comment", "# comment"),
        ("y ~ x ~ z", "~"),
        ("y ~ 'text'", "'text'"),
    ],
)
def test_everything_else_is_refused_naming_the_part(formula: str, name: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_formula(formula, what="--formula")
    assert caught.value.name == name
    assert caught.value.problems["column"].iloc[0] == "--formula"


@pytest.mark.parametrize(
    ("formula", "name", "check"),
    [  # found by an audit: each hung, or was an internal error (RecursionError, Overflow)
        ("y ~ I(9**9**9)", "9 ** 9 ** 9", "unsafe_expression"),
        ("y ~ x ** (2 ** 80)", "x ** 2 ** 80", "unsafe_expression"),
        ("y ~ I(x ** -101)", "x ** (-101)", "unsafe_expression"),
        ("y ~ I(x * 1" + "0" * 400 + ")", "100000000000...", "unsafe_expression"),
        ("y ~ I(x * 1e400)", "inf", "unsafe_expression"),
        (
            "y ~ x" + " + 0*x" * 3_000,
            "y ~ x + 0*x + 0*x + 0*x + 0*x + 0*x + 0*...",
            "expression_too_long",
        ),
    ],
)
def test_constants_powers_and_lengths_are_bounded(formula: str, name: str, check: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_formula(formula, what="--formula")
    assert caught.value.name == name
    assert caught.value.problems["check"].iloc[0] == check
    with pytest.raises(ExpressionError):
        check_expression(formula.split("~")[1].strip(), what="[drivers] d")
    # an ordinary power, a power that reads a column, the largest numbers allowed
    assert check_formula("y ~ I(x ** 2) + I(2 ** x) + I(x ** -100) + I(x * 1e15)") == ["y", "x"]


def test_the_columns_a_formula_logs_are_named_for_the_ingest_checks() -> None:
    from costperf.expressions import nonnegative_names

    formula = "np.log(unit_cost) ~ np.log(wage * 2) + sqrt(area) + C(grade) + x + exp(z)"
    assert nonnegative_names(formula) == ["unit_cost", "wage", "area"]
    assert nonnegative_names("y ~ (") == [] and nonnegative_names(None) == []


def test_columns_given_means_names_must_be_columns() -> None:
    with pytest.raises(ExpressionError, match="'open' is not a column") as caught:
        check_expression("open / 2", what="[drivers] d", columns=["a", "b"])
    assert caught.value.name == "open"
    assert check_expression("a / b", columns=["a", "b"]) is not None


def test_expressions_are_evaluated_with_numpy() -> None:
    frame = pd.DataFrame({"a": [1.0, 4.0, -1.0], "b": [2, 0, 4]})
    got = evaluate_expression("sqrt(a) * b + power(b, 2) / 4 - np.log(abs(a)) + -1", frame)
    with np.errstate(all="ignore"):
        a, b = frame["a"].to_numpy(), frame["b"].to_numpy(dtype=float)
        expected = np.sqrt(a) * b + b**2 / 4 - np.log(np.abs(a)) - 1
    np.testing.assert_array_equal(got.to_numpy(), expected)  # NaN for sqrt(-1), like numpy
    assert evaluate_expression("2 ** 3", frame).tolist() == [8.0, 8.0, 8.0]


def test_a_text_column_in_an_expression_is_named() -> None:
    frame = pd.DataFrame({"a": [1.0], "district": ["青浦区"]})
    with pytest.raises(ExpressionError, match="uses the column 'district', which is not numeric"):
        evaluate_expression("a * district", frame)


# ---- the call sites: case.toml, --formula, --model, standards derive ---------------


def _case_with(tmp_path: Path, old: str, new: str) -> Path:
    case = copy_case(tmp_path / "case")
    toml = case / "case.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new), encoding="utf-8")
    return case


BENCHMARK_FORMULA = (
    'formula = "np.log(unit_cost) ~ np.log(wage_index) + np.log(sweeps_per_day) + np.log(area_m2)"'
)


def test_run_refuses_the_issue_formula(tmp_path: Path, canary: Path, capsys) -> None:
    case = _case_with(tmp_path, BENCHMARK_FORMULA, f"formula = '''{_attack(canary)}'''")
    code = main(["run", str(case), "--out", str(tmp_path / "out"), "--no-records", "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "case.toml: [benchmark] formula: formula" in err
    assert "'np.__builtins__' is not allowed" in err
    problems = read_problems(tmp_path / "out" / "problems.csv")
    assert problems.loc[0, "column"] == "[benchmark] formula"
    assert problems.loc[0, "value"] == "np.__builtins__"


def test_run_refuses_a_driver_attack(tmp_path: Path, canary: Path, capsys) -> None:
    old = 'swept_area_m2 = "area_m2 * sweeps_per_day"'
    new = f"swept_area_m2 = \"__import__('os').system('touch {canary}')\""
    case = _case_with(tmp_path, old, new)
    code = main(["run", str(case), "--out", str(tmp_path / "out"), "--no-records", "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert "[drivers] swept_area_m2: expression" in err
    assert "unknown function '__import__'" in err


def test_run_refuses_a_standard_formula_attack(tmp_path: Path, canary: Path, capsys) -> None:
    old = 'rule = "median"               # peer statistic after outlier screening'
    new = f"rule = \"regression\"\nformula = \"unit_cost ~ open('{canary}', 'w')\""
    case = _case_with(tmp_path, old, new)
    code = main(["run", str(case), "--out", str(tmp_path / "out"), "--no-records", "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert "[standard] formula: formula" in err and "unknown function 'open'" in err


def test_costmodel_formula_option(tmp_path: Path, canary: Path, units, capsys) -> None:
    data = tmp_path / "units.csv"
    units.drop(columns=["source_file", "sheet", "source_row"]).to_csv(data, index=False)
    code = main(
        [
            "costmodel",
            str(data),
            "--formula",
            _attack(canary),
            "-o",
            str(tmp_path / "c.csv"),
            "--lang",
            "en",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("costperf: error: --formula: formula ")  # English only
    assert not (tmp_path / "c.csv").exists()


def test_benchmark_model_option(tmp_path: Path, canary: Path, units, capsys) -> None:
    data = tmp_path / "units.csv"
    units.drop(columns=["source_file", "sheet", "source_row"]).to_csv(data, index=False)
    argv = ["benchmark", str(data), "--value", "unit_cost", "--model", _attack(canary)]
    code = main([*argv, "-o", str(tmp_path / "p.csv"), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("costperf: error: --model: formula ")


def test_standards_derive_formula_option(tmp_path: Path, canary: Path, capsys) -> None:
    case = copy_case(tmp_path / "case")
    argv = ["standards", "derive", str(case), "--rule", "regression", "--formula"]
    code = main([*argv, _attack(canary), "--out", str(tmp_path / "out"), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--formula: formula " in err and "'np.__builtins__' is not allowed" in err
