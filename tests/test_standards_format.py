"""The table format: bad tables give InputError naming file, row and column."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.standards import content_hash, load_standards, read_standards, seal_table
from costperf.standards.toml_text import dumps

STANDARDS = Path(__file__).resolve().parents[1] / "standards"

HEADER = """\
table_id = "demo"
version = 1
status = "draft"
kind = "unit_cost"
title = "道路保洁单位成本标准"
issuer = "某区财政局"
effective_from = 2020-01-01

[source]
document = "演示文件"
document_no = "演财〔2020〕1号"

[dimensions.grade]
label_zh = "道路等级"
values = ["一级", "二级"]

[items.cleaning]
label_zh = "道路保洁"
"""
CSV = """\
grade,item,value,lower,upper,unit
一级,cleaning,12.5,10,15,元/平方米·年
二级,cleaning,"1,010",900,1100,元/平方米·年
"""


def write_table(folder: Path, header: str = HEADER, csv: str = CSV, stem: str = "demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.csv").write_text(csv, encoding="utf-8")
    path = folder / f"{stem}.toml"
    path.write_text(header, encoding="utf-8")
    return path


def test_valid_demo_table_loads(tmp_path):
    write_table(tmp_path)
    s = read_standards(tmp_path)
    assert s.values["value"].tolist() == [12.5, 1010.0]
    assert s.values["standard_id"].tolist() == ["demo/一级/cleaning", "demo/二级/cleaning"]
    assert s.values["kind"].unique().tolist() == ["unit_cost"]
    assert s.values["source_row"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("csv", "where", "what"),
    [
        (CSV.replace("12.5,10", "abc,10"), r"demo\.csv, row 2, column 'value'", "got 'abc'"),
        (
            CSV.replace("12.5,10,15", "12.5,13,15"),
            r"demo\.csv, row 2, column 'lower'",
            "lower <= value",
        ),
        (
            CSV.replace("12.5,10,15", "12.5,10,12"),
            r"demo\.csv, row 2, column 'upper'",
            "upper >= value",
        ),
        (
            CSV.replace("二级,cleaning", "三级,cleaning"),
            r"demo\.csv, row 3, column 'grade'",
            "got '三级'",
        ),
        (
            CSV.replace("二级,cleaning", "二级,sweeping"),
            r"demo\.csv, row 3, column 'item'",
            "got 'sweeping'",
        ),
        (
            CSV.replace("二级,cleaning", "一级,cleaning"),
            r"demo\.csv, row 3, column 'item'",
            "repeats row 2",
        ),
        (
            CSV.replace("一级,cleaning,12.5,10,15,元/平方米·年", "一级,cleaning,12.5,10,15,"),
            r"demo\.csv, row 2, column 'unit'",
            "a unit",
        ),
        (
            CSV.replace("upper,unit", "upper,units"),
            r"demo\.csv, row 1, column 'units'",
            "a column of the value file",
        ),
        (
            "grade,item,value,unit,kind\n一级,cleaning,1,元,price_ceiling\n",
            r"demo\.csv, row 2, column 'kind'",
            "got 'price_ceiling'",
        ),
        (
            "grade,item,value,unit\n一级|二级|一级,cleaning,1,元\n",
            r"demo\.csv, row 2",
            "repeats row 2",
        ),
        (
            "grade,item,value,unit\n一级,cleaning,-1,元\n",
            r"demo\.csv, row 2, column 'value'",
            ">= 0",
        ),
    ],
)
def test_bad_value_rows(tmp_path, csv, where, what):
    write_table(tmp_path, csv=csv)
    with pytest.raises(InputError, match=where) as info:
        read_standards(tmp_path)
    assert what in str(info.value)
    assert not info.value.problems.empty


def _line_of(text: str, key: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(key))


@pytest.mark.parametrize(
    ("change", "column", "what"),
    [
        (("issuer = ", "isuer = "), "isuer", "a known key in the header"),
        (('kind = "unit_cost"', 'kind = "unit_price"'), "kind", "one of: price_cap"),
        (('status = "draft"', 'status = "final"'), "status", "one of: draft, published, retired"),
        (
            (
                "effective_from = 2020-01-01",
                "effective_from = 2020-01-01\neffective_to = 2019-12-31",
            ),
            "effective_to",
            "on or after effective_from",
        ),
        (
            ('label_zh = "道路等级"', 'label_zh = "道路等级"\ncolour = "red"'),
            "dimensions.grade.colour",
            "a known key in [dimensions.grade]",
        ),
    ],
)
def test_bad_header_keys_name_key_and_line(tmp_path, change, column, what):
    header = HEADER.replace(*change)
    write_table(tmp_path, header=header)
    with pytest.raises(InputError) as info:
        read_standards(tmp_path)
    problems = info.value.problems
    row = problems[problems["column"] == column].iloc[0]
    assert what in row["expected"]
    assert row["source_file"].endswith("demo.toml")
    key = column.split(".")[-1]
    assert int(row["source_row"]) == _line_of(header, key + " =")
    assert f"column '{column}'" in str(info.value)


def test_missing_header_key(tmp_path):
    write_table(tmp_path, header=HEADER.replace('issuer = "某区财政局"\n', ""))
    with pytest.raises(
        InputError,
        match=r"demo\.toml, column 'issuer': expected the key "
        r"'issuer' in the header \(it is required\)",
    ):
        read_standards(tmp_path)


def test_toml_syntax_error_names_the_line(tmp_path):
    write_table(tmp_path, header=HEADER.replace('title = "道路保洁单位成本标准"', "title = 道路"))
    with pytest.raises(InputError, match=r"demo\.toml.*line 5") as info:
        read_standards(tmp_path)
    assert info.value.problems["source_row"].tolist() == [5]


def test_missing_value_file(tmp_path):
    path = write_table(tmp_path)
    path.with_suffix(".csv").unlink()
    with pytest.raises(InputError, match=r"demo\.csv.*(not found|existing data file)"):
        read_standards(tmp_path)


def test_retired_needs_an_end_and_published_needs_a_hash(tmp_path):
    write_table(tmp_path, header=HEADER.replace('status = "draft"', 'status = "retired"'))
    with pytest.raises(InputError) as info:
        read_standards(tmp_path)
    checks = set(info.value.problems["check"])
    assert {"retired_without_end", "missing_hash"} <= checks


def test_derived_table_records_method_data_hash_and_peer_rows(tmp_path):
    header = HEADER.replace(
        '[source]\ndocument = "演示文件"\ndocument_no = "演财〔2020〕1号"',
        '[source]\nmethod = "peer median after IQR screening"\n'
        'data_hash = "3f2a9c"\npeer_rows = "demo.peers.csv"\n\n'
        '[source.parameters]\nrule = "median"\noutlier_rule = "iqr"',
    )
    write_table(tmp_path, header=header)
    with pytest.raises(InputError, match=r"demo\.peers\.csv"):
        read_standards(tmp_path)
    (tmp_path / "demo.peers.csv").write_text(
        "project_id,grade,unit_cost,used\nA,一级,12,yes\n", encoding="utf-8"
    )
    s = read_standards(tmp_path)
    assert s.values["source_method"].unique().tolist() == ["peer median after IQR screening"]
    before = s.tables["content_hash"].item()
    (tmp_path / "demo.peers.csv").write_text(
        "project_id,grade,unit_cost,used\nA,一级,13,yes\n", encoding="utf-8"
    )
    assert read_standards(tmp_path).tables["content_hash"].item() != before


def test_source_needs_document_or_method(tmp_path):
    header = HEADER.replace('document = "演示文件"\n', "").replace(
        'document_no = "演财〔2020〕1号"', 'reference = "x"'
    )
    write_table(tmp_path, header=header)
    with pytest.raises(InputError, match="source.document .* or source.method"):
        read_standards(tmp_path)


@pytest.mark.parametrize(
    ("rule", "what"),
    [
        (
            'type = "tiers"\nvar = "days"\ntiers = [{ upto = 30, rate = 1 }, { upto = 20, rate = 0.7 }]',
            "no 'upto' on the last tier",
        ),
        (
            'type = "tiers"\nvar = "days"\ntiers = [{ upto = 30, rate = 1, per = 2 }, { rate = 0.7 }]',
            "exactly one of 'rate'",
        ),
        (
            'type = "seasons"\ndim = "grade"\nkey = "city"\npeak = "旺季"\noff_peak = "淡季"\n'
            '[rules.r.windows]\n"海口" = [{ start = "11-01", end = "02-30" }]',
            "MM-DD",
        ),
        (
            'type = "bands"\ndim = "grade"\nkey = "area"\nbands = [{ label = "小", upto = 50 }, '
            '{ label = "大", upto = 40 }]',
            "ascending 'upto'",
        ),
        ('type = "magic"', "one of: option, limit, tiers"),
        (
            'type = "map"\ndim = "region"\nkey = "city"\n[rules.r.map]\n"拉萨" = "西藏"',
            "a dimension declared in [dimensions]",
        ),
    ],
)
def test_bad_rules(tmp_path, rule, what):
    write_table(tmp_path, header=HEADER + "\n[rules.r]\n" + rule + "\n")
    with pytest.raises(InputError) as info:
        read_standards(tmp_path)
    assert what in str(info.value)
    assert info.value.problems["column"].str.startswith("rules.r").all()


def test_editing_a_published_table_is_an_error(tmp_path):
    for f in STANDARDS.glob("mof-meeting-fee-2016.*"):
        shutil.copy(f, tmp_path)
    read_standards(tmp_path)
    csv = tmp_path / "mof-meeting-fee-2016.csv"
    csv.write_text(
        csv.read_text(encoding="utf-8").replace("二类会议,lodging,400", "二类会议,lodging,420"),
        encoding="utf-8",
    )
    with pytest.raises(
        InputError,
        match=r"mof-meeting-fee-2016\.toml, row 6, column "
        r"'content_hash'.*published versions are immutable",
    ):
        read_standards(tmp_path)


def test_retiring_does_not_change_the_hash(tmp_path):
    for f in STANDARDS.glob("mof-meeting-fee-2016.*"):
        shutil.copy(f, tmp_path)
    toml = tmp_path / "mof-meeting-fee-2016.toml"
    text = toml.read_text(encoding="utf-8").replace('status = "published"', 'status = "retired"')
    toml.write_text(
        text.replace(
            "effective_from = 2016-07-01", "effective_from = 2016-07-01\neffective_to = 2030-12-31"
        ),
        encoding="utf-8",
    )
    assert read_standards(tmp_path).tables["status"].item() == "retired"


def test_seal_publishes_a_draft_once(tmp_path):
    path = write_table(tmp_path)
    digest = seal_table(path)
    header = tomllib.loads(path.read_text(encoding="utf-8"))
    assert header["status"] == "published" and header["content_hash"] == digest
    assert read_standards(tmp_path).tables["status"].item() == "published"
    with pytest.raises(InputError, match="only a draft can be sealed"):
        seal_table(path)


def test_hash_ignores_row_order_and_number_spelling(tmp_path):
    write_table(tmp_path)
    s = read_standards(tmp_path)
    version = s.get("demo")
    shuffled = version.raw.iloc[::-1].copy()
    shuffled["value"] = ["1010.00", "12.50"]
    assert content_hash(version.header, shuffled) == version.content_hash
    changed = shuffled.assign(value=["1010", "12.6"])
    assert content_hash(version.header, changed) != version.content_hash


def test_load_collects_every_table_problem(tmp_path):
    write_table(tmp_path / "a", csv=CSV.replace("12.5", "x"))
    write_table(
        tmp_path / "b",
        header=HEADER.replace('table_id = "demo"', 'table_id = "demo2"'),
        csv=CSV.replace("1,010", "y"),
    )
    standards, problems = load_standards(tmp_path)
    assert standards.versions == {}
    assert sorted(problems["source_file"].map(lambda p: Path(p).parent.name)) == ["a", "b"]


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no standard tables"):
        read_standards(tmp_path)


_keys = st.text(alphabet=st.sampled_from("abc_-中文 ."), min_size=1, max_size=6)
_scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
)
_values = st.recursive(
    st.one_of(_scalars, st.lists(_scalars, max_size=3)),
    lambda inner: st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_toml_writer_round_trips(data):
    assert tomllib.loads(dumps(data)) == data


def test_toml_writer_round_trips_shipped_headers():
    for path in STANDARDS.glob("*.toml"):
        header = tomllib.loads(path.read_text(encoding="utf-8"))
        assert tomllib.loads(dumps(header)) == header, path.name


def test_problem_rows_carry_values(tmp_path):
    write_table(tmp_path, csv=CSV.replace("12.5", "十二"))
    with pytest.raises(InputError) as info:
        read_standards(tmp_path)
    row = info.value.problems.iloc[0]
    assert (row["column"], row["value"], int(row["source_row"])) == ("value", "十二", 2)
    assert re.search(r"demo\.csv$", row["source_file"])
    assert isinstance(info.value.problems, pd.DataFrame)


def test_declared_dimension_without_column_is_a_warning(tmp_path):
    header = HEADER + '\n[dimensions.season]\nlabel_zh = "季节"\n'
    write_table(tmp_path, header=header)
    standards, problems = load_standards(tmp_path)
    assert problems["check"].tolist() == ["missing_dimension_column"]
    assert problems["severity"].tolist() == ["warning"]
    assert standards.values["season"].tolist() == ["*", "*"]
