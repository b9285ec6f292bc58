"""Tests for costperf.case: case.toml -> CaseConfig, every key checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from conftest import SANITATION, edit_toml
from costperf.case import CaseConfig, load_case
from costperf.errors import InputError


def test_the_worked_case_loads() -> None:
    config = load_case(SANITATION)
    assert isinstance(config, CaseConfig)
    assert config.name == "sanitation-5-districts"
    assert config.class_of_matter == "环卫保洁"
    assert config.peers["line_items"].path == SANITATION / "data" / "line_items.csv"
    assert set(config.requests) == {"projects", "line_items", "outputs"}
    assert config.units.output_indicator == "保洁面积" and config.units.output_unit == "m2"
    assert config.units.dimensions == ("road_grade",)
    assert config.units.variables == {"area_m2": "保洁面积", "sweeps_per_day": "日清扫频次"}
    assert config.standard.standard_id == "HW-UC" and config.standard.version == "2026.1"
    assert config.standard.effective_from == dt.date(2026, 1, 1)
    assert config.standard.band == ("p25", "p75")
    assert config.review.tolerance == 0.0
    assert config.peers["line_items"].amount_scale == 1.0
    assert load_case(SANITATION / "case.toml") == config  # the file itself works too
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "x"  # type: ignore[misc]


@pytest.fixture
def case(tmp_path: Path) -> Path:
    (tmp_path / "case.toml").write_text((SANITATION / "case.toml").read_text("utf-8"), "utf-8")
    return tmp_path


def test_table_options(case: Path) -> None:
    edit_toml(
        case,
        "[requests]",
        '[peers.options.line_items]\nsheet = "明细"\nheader_row = 3\n'
        'amount_unit = "万元"\n\n[requests]',
    )
    source = load_case(case).peers["line_items"]
    assert (source.sheet, source.header_row, source.amount_scale) == ("明细", 3, 1e4)


BAD = [
    (
        "unknown_key",
        "[units]",
        '[units]\nouptut_unit = "m2"',
        r"unknown key 'ouptut_unit' in "
        r"\[units\]; use one of: amount_tolerance, amount_tolerance_abs, dimensions, output",
    ),
    ("unknown_section", "[review]", "[reveiw]", r"unknown section \[reveiw\]; use one of: case"),
    (
        "bad_type",
        "tolerance = 0.0 ",
        'tolerance = "five" ',
        r"key 'review.tolerance': got 'five', expected",
    ),
    ("bool_for_number", "scale = 10000", "scale = true", r"key 'decomposition.scale': got True"),
    (
        "out_of_range",
        "tolerance = 0.0 ",
        "tolerance = 1.5 ",
        r"key 'review.tolerance': got 1.5, expected a finite number in \[0, 1\)",
    ),
    ("invalid_toml", "[units]", "[units", r"not valid TOML: .*line 20"),
    (
        "unknown_rule",
        'rule = "median"',
        'rule = "median2"',
        r"unknown rule 'median2' in \[standard\]; use one of: median, p10, p25, p75, p90, "
        r"quantile:<q>, mean, regression",
    ),
    (
        "unknown_outlier_rule",
        'outlier_rule = "iqr"',
        'outlier_rule = "tukey"',
        r"unknown outlier_rule 'tukey'",
    ),
    (  # read by the [standard] reader and by the rules' own checks: reported once
        "unknown_at",
        'outlier_rule = "iqr"',
        'outlier_rule = "iqr"\nat = "foo"',
        r"unknown at 'foo' in \[standard\]",
    ),
    (
        "bad_k",
        'outlier_rule = "iqr"',
        'outlier_rule = "iqr"\nk = -1',
        r"key 'standard.k': got -1, expected a finite number > 0",
    ),
    ("unknown_band", 'band = ["p25", "p75"]', 'band = ["p25", "p99"]', r"unknown band 'p99'"),
    ("one_band", 'band = ["p25", "p75"]', 'band = ["p25"]', r"key 'standard.band'"),
    (
        "bad_date",
        "effective_from = 2026-01-01",
        'effective_from = "2026-13-01"',
        r"key 'standard.effective_from': got '2026-13-01', expected a date",
    ),
    (
        "missing_required",
        'class_of_matter = "环卫保洁"\n',
        "",
        r"key 'case.class_of_matter': expected a value \(it is required\)",
    ),
    (
        "missing_peers_table",
        'projects = "data/projects.csv"\n',
        "",
        r"key 'peers.projects': expected a value",
    ),
    (
        "list_expected",
        'dimensions = ["road_grade"]',
        'dimensions = "road_grade"',
        r"key 'units.dimensions': got 'road_grade', expected a list",
    ),
    (
        "list_of_text",
        'dimensions = ["road_grade"]',
        "dimensions = [1]",
        r"key 'units.dimensions': got \[1\], expected a list of text",
    ),
    ("driver_not_text", "[drivers]", "[drivers]\nfoo = 3", r"key 'drivers.foo': got 3"),
    (
        "undefined_decomposition_driver",
        '"overhead_factor"]',
        '"overhead_factorX"]',
        r"decomposition driver 'overhead_factorX' is not defined in \[drivers\]",
    ),
    (
        "unknown_amount_unit",
        "[requests]",
        '[peers.options.line_items]\namount_unit = "万"\n\n[requests]',
        r"unknown amount_unit '万' in \[peers.options.line_items\]; use one of: 元",
    ),
    (
        "unknown_table_option",
        "[requests]",
        '[peers.options.line_items]\nsheeet = "a"\n\n[requests]',
        r"unknown key 'sheeet' in \[peers.options.line_items\]",
    ),
    (
        "unknown_options_table",
        "[requests]",
        '[peers.options.lines]\nsheet = "a"\n\n[requests]',
        r"unknown table 'lines' in \[peers.options\]",
    ),
    (
        "bad_header_row",
        "[requests]",
        "[peers.options.line_items]\nheader_row = 0\n\n[requests]",
        r"key 'peers.options.line_items.header_row': got 0",
    ),
    (
        "header_row_text",
        "[requests]",
        '[peers.options.line_items]\nheader_row = "3"\n\n[requests]',
        r"key 'peers.options.line_items.header_row': got '3'",
    ),
    (
        "sheet_not_text",
        "[requests]",
        "[peers.options.line_items]\nsheet = 2\n\n[requests]",
        r"key 'peers.options.line_items.sheet': got 2, expected a sheet name",
    ),
]


@pytest.mark.parametrize(("old", "new", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_config_errors_name_file_and_key(case: Path, old: str, new: str, match: str) -> None:
    edit_toml(case, old, new)
    with pytest.raises(InputError, match=match) as info:
        load_case(case)
    message = str(info.value)
    assert message.startswith(f"{case / 'case.toml'}: ")
    problems = info.value.problems
    assert len(problems) == 1  # so the CLI writes a problems table for config errors too
    assert problems.loc[0, "source_file"] == str(case / "case.toml")


def test_every_config_error_of_the_file_comes_at_once(case: Path) -> None:
    """Found by an audit: only the first wrong key was reported, the next one a run later."""
    edit_toml(case, "scale = 10000", 'scale = "abc"')
    edit_toml(case, "quantile = 0.25", 'quantile = "x"')
    edit_toml(case, "\ntolerance = 0.0", "\ntolerance = [1]")  # [review], not amount_tolerance
    edit_toml(case, 'dimensions = ["road_grade"]', 'dimensions = "road_grade"\nfoo = 1')
    edit_toml(case, "[decomposition]", "[bogus]\nx = 1\n\n[decomposition]")
    with pytest.raises(InputError) as info:
        load_case(case)
    keys = info.value.problems["column"].tolist()
    assert sorted(keys) == sorted(
        [
            "decomposition.scale",
            "benchmark.quantile",
            "review.tolerance",
            "units.dimensions",  # once: not again as empty
            "units.foo",
            "bogus",
        ]
    )
    assert set(info.value.problems["source_file"]) == {str(case / "case.toml")}


def test_missing_case_toml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no case.toml here"):
        load_case(tmp_path)
    (tmp_path / "case.toml").mkdir()
    with pytest.raises(InputError, match="no case.toml here"):
        load_case(tmp_path)


def test_not_utf8(case: Path) -> None:
    path = case / "case.toml"
    path.write_bytes(path.read_text("utf-8").encode("gbk"))
    with pytest.raises(InputError, match="not valid TOML"):
        load_case(case)


def test_invalid_toml_problem_has_the_line(case: Path) -> None:
    edit_toml(case, "[units]", "[units")
    with pytest.raises(InputError) as info:
        load_case(case)
    assert info.value.problems.loc[0, "source_row"] == 20


def test_section_that_is_not_a_table(case: Path) -> None:
    text = (case / "case.toml").read_text("utf-8")
    start, end = text.index("[review]"), len(text)
    (case / "case.toml").write_text("review = 3\n" + text[:start] + text[end:], "utf-8")
    with pytest.raises(InputError, match=r"key 'review': got 3, expected a table \[review\]"):
        load_case(case)


def test_run_on_a_request_book_names_costperf_review(tmp_path: Path, capsys) -> None:
    """``costperf run cases/requests-2027`` (a book, not a case): the message says the
    book is reviewed, with the command to type; a folder with neither says what a case is."""
    import shutil

    from conftest import REQUESTS_2027
    from costperf.cli import main

    case = tmp_path / "requests"
    (case / "book").mkdir(parents=True)
    for name in ("projects.csv", "lines.csv"):
        shutil.copy(REQUESTS_2027 / "book" / name, case / "book" / name)
    said = f"（申报书请用 costperf review 评审：costperf review {case / 'book'}）"
    for folder in (case, case / "book"):
        assert main(["run", str(folder), "--out", str(tmp_path / "o")]) == 2
        assert said in capsys.readouterr().err
    assert main(["run", str(case), "--out", str(tmp_path / "o"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert f"a request book is reviewed, not run: costperf review {case / 'book'}" in err
    assert main(["run", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "缺少文件，应为含 case.toml 的案例文件夹（见 README）" in err
    assert "costperf review" not in err
