"""User-facing messages come from labels.csv (kind ``message``) through columns.message."""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from costperf.columns import MessageError, code_labels, message, message_column
from costperf.expressions import allowed_text

SOURCE = Path(__file__).resolve().parents[1] / "src" / "costperf"
#: a call ``message("code", ...)``, ``message_column("code", ...)``,
#: ``message_rows("code", ...)`` or ``filled("code", ...)`` (or with single quotes); codes
#: are always literals.
CALL = re.compile(r"""\b(?:message(?:_column|_rows)?|filled)\(\s*(["'])([^"']+)\1""")


@cache
def _templates() -> dict[str, tuple[str, str]]:
    rows = code_labels().xs("message", level="kind")
    return {str(code): (r.label_zh, r.label_en) for code, r in rows.iterrows()}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _used_codes() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for _, code in CALL.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(str(path.relative_to(SOURCE)))
    return used


def test_every_message_used_in_src_is_in_labels_csv() -> None:
    used = _used_codes()
    assert used, "no message(...) call found under src/costperf"
    templates = _templates()
    missing = {code: where for code, where in used.items() if code not in templates}
    assert not missing


def test_every_message_in_labels_csv_is_used() -> None:
    unused = set(_templates()) - set(_used_codes())
    assert not unused


@pytest.mark.parametrize("code", sorted(_templates()))
def test_template_formats_in_both_languages(code: str) -> None:
    zh, en = _templates()[code]
    assert zh and en
    names = _fields(zh)
    assert names == _fields(en), "zh and en name different placeholders"
    assert all(name.isidentifier() for name in names), "placeholders are plain names"
    values = dict.fromkeys(names, 1)  # an int formats under every spec used (,.2f .1% d)
    for lang in ("zh", "en"):
        text = message(code, lang, **values)
        assert "{" not in text and "}" not in text


def test_unknown_code_and_missing_value_are_clear_errors() -> None:
    with pytest.raises(MessageError, match="no message 'no.such'"):
        message("no.such", "zh")
    with pytest.raises(MessageError, match="needs the value 'path'"):
        message("review.recorded", "en", batch="b1")


def test_an_error_text_is_the_english_of_its_row() -> None:
    """error_text fills the English of a labels.csv ``error`` row (the row the Chinese
    comes from under zh); a template without its row, or a value not given, is an error."""
    from costperf.columns import error_text, expected_label

    text = error_text("{value}: expected DIM=VALUE (e.g. city=大连)", value="'x'")
    assert text == "'x': expected DIM=VALUE (e.g. city=大连)"
    assert expected_label(text, "zh") == "'x'：应为“维度=值”（如 city=大连）"
    with pytest.raises(MessageError, match="no error 'no such {value}'"):
        error_text("no such {value}", value=1)
    with pytest.raises(MessageError, match="needs the value 'value'"):
        error_text("{value}: expected DIM=VALUE (e.g. city=大连)")


def test_a_named_table_reads_as_its_chinese_name() -> None:
    from costperf.columns import expected_label

    text = "a column unit_cost in 项目 (projects) (columns found: x, y)"
    assert expected_label(text, "zh") == "项目表中的列 unit_cost（现有列：x, y）"
    assert expected_label(text, "en") == text
    plain = "a column unit_cost in projects (columns found: x, y)"
    assert expected_label(plain, "zh") == "projects 中的列 unit_cost（现有列：x, y）"


def test_message_rows_is_message_row_by_row() -> None:
    """Lists, arrays and Series give one text a row, with the template's own format
    specs; a shared value is given once; English count nouns after 1 are singular."""
    import numpy as np

    from costperf.labels import message_rows

    zh = message_rows("run.review", "zh", requests=pd.Series([1, 12]),
                      requested=np.array([100.0, 1e6]), approved=[50.0, 1234.5],
                      cut=[50, 998765.5], cut_rate=[0.5, 0.9987655])  # fmt: skip
    assert zh == [
        "审核：申报 1 项，申报数 100.00 元，审定数 50.00 元，核减 50.00 元（核减率 50.0%）",
        "审核：申报 12 项，申报数 1,000,000.00 元，审定数 1,234.50 元，核减 998,765.50 元（核减率 99.9%）",
    ]
    nights = message_rows("reason.standard_line_nights", "en", ref="A-1", n=[1, 2])
    assert nights == ["A-1 ×1 night", "A-1 ×2 nights"]
    assert nights == [message("reason.standard_line_nights", "en", ref="A-1", n=n) for n in (1, 2)]
    rows = message_rows("reason.travel.meals", "en", rate=100, days=[1, 2], persons=[1, 11],
                        cap=["100", "2200"])  # fmt: skip
    assert rows == [
        message("reason.travel.meals", "en", rate=100, days=1, persons=1, cap="100"),
        message("reason.travel.meals", "en", rate=100, days=2, persons=11, cap="2200"),
    ]
    assert rows[0] == "meal allowance 100 yuan/person-day x 1 day x 1 person = 100 yuan"
    assert message_rows("run.cost_index", "en", value=[]) == []
    with pytest.raises(MessageError, match=r"rows differ in number \(days: 2, persons: 1\)"):
        message_rows("reason.travel.meals", "en", rate=1, days=[1, 2], persons=[1], cap="1")
    with pytest.raises(MessageError, match="needs the value 'cap'"):
        message_rows("reason.travel.meals", "zh", rate=1, days=[1], persons=[1])


def test_values_are_inserted_not_evaluated() -> None:
    text = message("review.recorded", "en", batch="{path.__class__}", path="x")
    assert text == "records: batch {path.__class__} -> x"


def test_review_totals_read_as_one_language() -> None:
    values = {
        "projects": 275,
        "lines": 811,
        "approve": 97,
        "reduce": 149,
        "reject": 29,
        "requested": 1234567.5,
        "approved": 1100000,
        "cut_rate": 0.111,
        "manual_projects": 145,
        "manual_lines": 211,
    }
    zh = message("review.totals", "zh", **values)
    assert zh == (
        "评审：275 个项目，811 行；通过 97，核减 149，不予安排 29；申报 1,234,567.50 元，"
        "审定 1,100,000.00 元，核减率 11.1%；需人工复核 145 个项目 / 211 行"
    )
    assert not re.search(r"[A-Za-z]", zh)
    en = message("review.totals", "en", **values)
    assert not re.search(r"[\u4e00-\u9fff]", en)
    assert en.startswith("review: 275 projects, 811 lines; 97 approved")


def test_message_column_fills_whole_columns() -> None:
    index = pd.Index([3, 5, 7])
    batch = pd.Series(["b1", "b2", "b3"], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=batch, path="x")
    assert isinstance(text, pd.Series) and text.index.equals(index)
    assert list(text) == [message("review.recorded", "en", batch=b, path="x") for b in batch]
    zh = message_column("review.recorded", "zh", index, batch=batch, path="x")
    assert zh[5] == "评审记录：批次 b2 → x"
    constant = message_column("review.recorded", "zh", index, batch="b", path="p")
    assert list(constant) == ["评审记录：批次 b → p"] * 3


def test_message_column_inserts_values_verbatim() -> None:
    index = pd.RangeIndex(2)
    tricky = pd.Series(["{path.__class__}", "{0} %s {{x}}"], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=tricky, path="{batch}")
    assert list(text) == [
        "records: batch {path.__class__} -> {batch}",
        "records: batch {0} %s {{x}} -> {batch}",
    ]


def test_message_column_missing_text_stays_missing() -> None:
    index = pd.RangeIndex(2)
    batch = pd.Series(["b1", None], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=batch, path="x")
    assert text[0] == "records: batch b1 -> x" and pd.isna(text[1])


def test_message_column_errors() -> None:
    index = pd.RangeIndex(2)
    with pytest.raises(MessageError, match="no message 'no.such'"):
        message_column("no.such", "zh", index)
    with pytest.raises(MessageError, match=r"field \{value:\.1f\} must be a plain"):
        message_column("run.cost_index", "en", index, value="1")
    with pytest.raises(MessageError, match="needs the value 'path'"):
        message_column("review.recorded", "en", index, batch="b1")
    with pytest.raises(MessageError, match="not aligned"):
        message_column(
            "review.recorded", "en", index, batch=pd.Series(["a", "b"], index=[5, 6]), path="x"
        )
    with pytest.raises(MessageError, match="a Series or a str, got int"):
        message_column("review.recorded", "en", index, batch=1, path="x")


#: a call ``message_column("code", ...)``: its template must have plain fields only.
COLUMN_CALL = re.compile(r"""\bmessage_column\(\s*(["'])([^"']+)\1""")


def _column_codes() -> list[str]:
    codes = set()
    for path in sorted(SOURCE.rglob("*.py")):
        codes.update(code for _, code in COLUMN_CALL.findall(path.read_text(encoding="utf-8")))
    return sorted(codes)


def test_reason_sentences_are_in_labels_csv() -> None:
    codes = _column_codes()
    assert len(codes) > 20 and all(code.startswith("reason.") for code in codes)


@pytest.mark.parametrize("code", _column_codes())
def test_column_templates_are_plain_and_paired(code: str) -> None:
    zh, en = _templates()[code]
    names = _fields(zh)
    assert names == _fields(en), "zh and en name different fields"
    values = {name: f"<{name}>" for name in names}
    index = pd.RangeIndex(1)
    for lang in ("zh", "en"):  # plain {name} fields only, filled as message() fills them
        text = message_column(code, lang, index, **values)
        assert text[0] == message(code, lang, **values)


# ---- problems in Chinese: the ``expected`` templates ------------------------------------


def _expected_rows() -> pd.DataFrame:
    table = code_labels().reset_index()
    return table[table["kind"].isin(["expected", "error"])]


def test_expected_templates_pair_their_placeholders() -> None:
    """Each template's Chinese uses exactly the English placeholders (fields named in the
    English and not shown in Chinese are allowed only for the wording's own words)."""
    rows = _expected_rows()
    assert len(rows) >= 80 and not rows.duplicated("code").any()
    names = string.Formatter()
    for code, zh, en in rows[["code", "label_zh", "label_en"]].itertuples(index=False):
        assert en == code
        english = {f for _, f, _, _ in names.parse(code) if f}
        chinese = {f for _, f, _, _ in names.parse(zh) if f}
        assert chinese <= english and english - chinese <= {"what"}, code
        assert re.search("[\u4e00-\u9fff]", zh), code


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("a number", "数字"),
        ("a number >= 0", "不小于 0 的数字"),
        ("a number >= 0 (input prices)", "不小于 0 的数字（投入价格）"),
        (
            "a unique request_id + line_no (first used in row 5)",
            "不重复的申报编码 + 序号（第 5 行已使用）",
        ),
        ("a unique project_id", "不重复的项目编码"),
        ("a date YYYY-MM-DD", "日期 YYYY-MM-DD"),
        ("one of: 产出-数量、效益 (or blank)", "以下之一：产出-数量、效益（或留空）"),
        ("a known standard id (HW-UC) or a blank cell", "已知的标准编码（HW-UC）或留空"),
        ("the quantity (数量) for an equipment line", "办公设备家具明细的数量"),
        ("a year from 1900 to 2200", "1900 至 2200 年之间的年度"),
        ("a value (it is required) of type text or a table", "必填项，类型为文本或表"),
    ],
)
def test_expected_texts_read_in_chinese(english: str, chinese: str) -> None:
    from costperf.columns import expected_label

    assert expected_label(english, "zh") == chinese
    assert expected_label(english, "en") == english


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        (
            "quantile must be a number strictly between 0 and 1, got 1.5",
            "quantile 应为严格介于 0 与 1 之间的数字，实际为 1.5",
        ),
        (
            "rule: unknown rule 'p99'; use one of: median, mean",
            "规则：未知规则 'p99'；可用规则：median, mean",
        ),
        (
            "unknown orientation 'both'; use one of: in, out, graph",
            "未知的导向 'both'；可用：in、out、graph",
        ),
        (  # a {date} holds a date only: the lines after it are not swallowed
            "no 'hw-uc' table in force on 2027-01-01",
            "2027-01-01 没有生效的 'hw-uc' 标准表",
        ),
        (
            "/x/out.txt: --out names a file, not a folder; give a folder for the outputs",
            "/x/out.txt：--out 指向文件而非文件夹；请给出输出文件夹",
        ),
    ],
)
def test_error_messages_read_in_chinese(english: str, chinese: str) -> None:
    """An input error with no problems table: its whole message from kind ``error``,
    and the CLI's Chinese line carries it instead of a pointer to the English."""
    from costperf.columns import expected_label
    from costperf.errors import InputError, chinese_summary

    assert expected_label(english, "zh") == chinese
    assert expected_label(english, "en") == english
    assert chinese_summary(InputError(english)) == f"costperf：错误：{chinese}"


def test_an_error_without_a_template_is_shown_in_english_marked_as_such() -> None:
    """Under zh only the Chinese is printed, so an untranslated text is kept, marked."""
    from costperf.errors import InputError, chinese_summary, make_problems

    unknown = "something no template knows"
    assert (
        chinese_summary(InputError(unknown))
        == f"costperf：错误：输入有误（暂无中文说明）：{unknown}"
    )
    two_lines = "no 'hw-uc' table in force on 2027-01-01\nhw-uc@1 accepts: ..."
    assert chinese_summary(InputError(two_lines)).endswith(f"（暂无中文说明）：{two_lines}")
    row = {"source_file": "a.csv", "source_row": 3, "column": "x", "expected": unknown}
    shown = chinese_summary(InputError("1 problem(s) in a.csv", make_problems([row])))
    assert shown.endswith(f"a.csv，第 3 行，列“x”：输入错误，说明（暂无中文译文）：{unknown}")


def test_an_expected_text_without_a_template_stays_english() -> None:
    from costperf.columns import expected_label

    assert expected_label("an expression of column names", "zh") is None
    assert expected_label("{0.__class__}", "zh") is None  # a value is never formatted
    # a number's place holds a number: no "不小于 0 (output); negative … 的数字"
    longer = "a number >= 0 (output); negative outputs are allowed only with VRS or FDH"
    assert expected_label(longer, "zh") is None
    assert expected_label("a row in 1..10", "zh") == "第 1 至 10 行之一"


def test_problems_table_in_chinese_and_in_english() -> None:
    from costperf.errors import make_problems
    from costperf.io.write import problems_for_display

    problems = make_problems(
        [
            {"source_file": "a.csv", "source_row": 3, "column": "数量", "value": "x"}
            | {"expected": "a number", "check": "not_a_number"},
            {"source_file": "a.csv", "column": "金额", "expected": "an expression of a"}
            | {"check": "unknown_column", "severity": "warning"},
        ]
    )
    zh = problems_for_display(problems, "zh")
    assert list(zh.columns) == [
        "文件",
        "工作表",
        "行号",
        "列",
        "单元格取值",
        "应为",
        "问题",
        "级别",
    ]
    assert zh["应为"].tolist() == ["数字", "an expression of a"]
    assert zh["问题"].tolist() == ["不是数字", "未知列（已忽略）"]
    assert zh["级别"].tolist() == ["错误", "警告"]
    en = problems_for_display(problems, "en")
    pd.testing.assert_frame_equal(en, problems)


def test_chinese_summary_says_what_was_expected() -> None:
    from costperf.errors import InputError, chinese_summary, make_problems

    problems = make_problems(
        [
            {"source_file": "a.csv", "source_row": 4, "column": "人数", "value": "-5"}
            | {"expected": "a number >= 0", "check": "below_minimum"}
        ]
    )
    text = chinese_summary(InputError("1 problem", problems))
    assert text.splitlines()[1].strip() == (
        "a.csv，第 4 行，列“人数”：低于下限，值 '-5'，应为不小于 0 的数字"
    )


def test_one_takes_a_singular_noun_in_english() -> None:
    index = pd.RangeIndex(3)
    got = message_column(
        "reason.travel.meals",
        "en",
        index,
        rate=pd.Series(["100"] * 3),
        days=pd.Series(["1", "2", "1"]),
        persons=pd.Series(["1", "1", "11"]),
        cap=pd.Series(["100", "200", "1100"]),
    )
    assert got.tolist() == [
        "meal allowance 100 yuan/person-day x 1 day x 1 person = 100 yuan",
        "meal allowance 100 yuan/person-day x 2 days x 1 person = 200 yuan",
        "meal allowance 100 yuan/person-day x 1 day x 11 persons = 1100 yuan",
    ]
    values = {"category": "二类", "quota": 650, "cap": 650}
    one = message("reason.meeting.quota", "en", **values, persons=1, days=1)
    assert "x 1 person x 1 day =" in one
    many = message("reason.meeting.quota", "en", **values, persons=21, days=1.5)
    assert "x 21 persons x 1.5 days =" in many
    zh = message("reason.meeting.quota", "zh", **values, persons=1, days=1)
    assert "× 1 人 × 1 天" in zh
    names = {"projects": 10, "first": 2026, "last": 2026, "book": "h.xlsx", "html": "h.html"}
    history = message("history.written", "en", **names, departments=1, charts=1)
    assert history.startswith("Year over year: 1 department, 10 projects")
    assert "(1 chart)" in history


def test_every_progress_step_has_its_labels() -> None:
    """The steps a progress bar names (the run's, its outputs', the review's) are shown
    by their labels in both languages."""
    from costperf.commands.review import STEPS as REVIEW_STEPS
    from costperf.pipeline import STEPS
    from costperf.progress import Progress

    shown = []

    class Bar:  # what rich's Progress is told
        def update(self, task, description):  # noqa: ANN001
            shown.append(description)

        def advance(self, task, n):  # noqa: ANN001
            pass

    names = [s.name for s in STEPS] + ["writing", "charts", "report.xlsx", "standard"]
    names += ["report.html", *REVIEW_STEPS]
    for lang in ("zh", "en"):
        bar = Progress(Bar(), 0, lang)
        for name in names:
            bar.step(name)
        assert set(names) <= set(code_labels().loc["progress_step"].index)
        if lang == "zh":
            assert all(re.search("[\u4e00-\u9fff]", text) for text in shown), shown
        shown.clear()


# ------------------------------------------- every literal input-error text has its Chinese

#: the calls whose text reaches a user: positional index of the text (or the first
#: argument of an error class constructed with a message alone)
_TEXT_ARGUMENT = {
    "row_problems": 3, "table_problem": 2, "lookup_problems": 3, "value_problems": 4, "error_text": 0,
}  # fmt: skip
_BUILTIN_ERRORS = {
    "ValueError", "TypeError", "KeyError", "RuntimeError", "AssertionError",
    "NotImplementedError", "AttributeError",
}  # fmt: skip
#: texts no user can meet: a programmer's misuse of an internal API, a registry's own
#: consistency check, a migration that never runs backwards (with the sample values)
_PROGRAMMER_ERRORS = {
    "unknown covariance type 8",
    "cov_type='cluster' needs groups",
    "cov_type='cluster' needs at least 2 clusters, got 8",
    "labels.csv has no message 8 (add a row: message,10,<zh>,<en>)",
    "message 8 needs the value 10 (given: 12)",
    "labels.csv has no error 8 (add a row: error,10,<zh>,<en>)",
    "error 8 needs the value 10 (given: 12)",
    "message 8 (10) fills whole columns: its field 12 must be a plain {name} (format the "
    "values before, e.g. with format_amounts)",
    "message 8: the value 10 is not aligned to the index",
    "message 8: the value 10 must be a Series or a str, got 12",
    "message 8: the values' rows differ in number (10)",
    "7: expected a pandas DataFrame, got 9",
    "7 (project 9)",  # its texts are the rows "a positive output ... (project {project})"
    "record stores are never downgraded",
    "review rule 8: level must be one of 10, got 12",
    "HiGHS 'threads' is process-wide; do not set it per model",
    "rule 8: parameter 10 default differs from 12",
}
#: the scan fills every placeholder with a number; these take a date or one of a few
#: fixed texts there (each of those has its own row)
_SAMPLE_TEXTS = {
    "an expression of 8": "an expression of " + allowed_text(formula=False),
    "a quantity cap of 8 for the item and staff level (10)": "a quantity cap of x for the "
    "item and staff level (unknown staff_level 'y'; no matching line in x@1)",  # statuses
    "no '8' table in force on 10": "no 'x' table in force on 2024-01-01",
    "--effective 8: must be after 10 took effect (12); a new version supersedes the old one "
    "from its effective date": "--effective 2024-01-01: must be after x took effect "
    "(2023-01-01); a new version supersedes the old one from its effective date",
}


def _literal_text(node) -> str | None:  # noqa: ANN001 - an ast node
    """A string literal, or an f-string with each value as a number (7, 8, ...)."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else str(7 + i)
            for i, v in enumerate(node.values)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None or right is None else left + right
    return None


def _user_texts() -> dict[str, str]:
    """Every literal text of an input error in src: text -> where (module:line)."""
    import ast

    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            texts = []
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", "")
                error = name.endswith("Error") and name not in _BUILTIN_ERRORS
                if name in _TEXT_ARGUMENT and len(node.args) > _TEXT_ARGUMENT[name]:
                    texts.append(node.args[_TEXT_ARGUMENT[name]])
                if name in _TEXT_ARGUMENT or error or name in ("fail", "located_error"):
                    texts += [k.value for k in node.keywords if k.arg in ("expected", "message")]
                if (error or name == "fail") and len(node.args) == 1 and not node.keywords:
                    texts.append(node.args[0])
            elif isinstance(node, ast.Dict):
                texts += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "expected"
                ]
            elif isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) in ("msg", "expected", "message") for t in node.targets
            ):
                texts.append(node.value)
            for text in map(_literal_text, texts):
                if text and re.search("[A-Za-z]", text):
                    found.setdefault(text, f"{path.relative_to(SOURCE)}:{node.lineno}")
    return found


def test_every_input_error_text_in_src_reads_in_chinese() -> None:
    """Each literal text an input error shows (a problem's expected text, an error's
    message) has its labels.csv template: a new raise site ships with its Chinese."""
    from costperf.columns import expected_label

    texts = _user_texts()
    assert len(texts) > 250  # the scan sees the raise sites
    missing = [
        f"{where}: {text!r}"
        for text, where in sorted(texts.items(), key=lambda t: t[1])
        if text not in _PROGRAMMER_ERRORS
        and expected_label(_SAMPLE_TEXTS.get(text, text), "zh") is None
    ]
    assert not missing, "no Chinese in labels.csv (kinds expected/error) for:\n" + "\n".join(
        missing
    )
    stale = {t for t in _PROGRAMMER_ERRORS | set(_SAMPLE_TEXTS) if t not in texts}
    assert not stale, f"listed here but no longer in src: {stale}"


def test_a_wanted_value_with_its_reasons_is_translated_part_by_part() -> None:
    """``what (why; why)``: a lookup's statuses after what the review wanted; each part
    has its row, nested parentheses stay inside their part; any part without a row
    leaves the whole text untranslated (never half English inside the Chinese)."""
    from costperf.columns import expected_label

    text = (
        "a city and staff level of the lodging table (unknown city '火星'; "
        "no component 'x' for 'lodging' in travel-lodging@2 (components: , peak))"
    )
    assert expected_label(text, "zh") == (
        "住宿费标准表中的城市和人员级别（未知的出差城市 '火星'；travel-lodging@2 中品目 "
        "'lodging' 没有组成部分 'x'（现有组成部分：, peak））"
    )
    assert expected_label(text, "en") == text
    # found by the fuzz of a request book (a chair without its staff level): English only
    text = "the facts the price cap depends on (no staff_level given (the 'desk' lines differ by staff_level))"
    assert expected_label(text, "zh") == (  # the item by its name in the table (desk: 办公桌)
        "单价上限所依据的条件（未给出人员级别（品目“办公桌”的各行按人员级别区分））"
    )
    assert expected_label(text, "en") == text
    assert expected_label("a meeting category of the table (a reason nobody wrote)") is None
    assert expected_label("a meeting category of the table (") is None
    assert expected_label("(no item given)") is None


@pytest.mark.parametrize(
    "text",
    [  # found by an audit: the store's own texts fell back to English (暂无中文说明)
        "s.sqlite: the record store is damaged (SQLite said: database disk image is "
        "malformed); nothing is appended to it",
        "s.sqlite: the record store is damaged (integrity check: page 3 is never used); "
        "nothing is appended to it: restore it from a backup or name a new file",
        "s.sqlite: cannot open the record store (SQLite said: unable to open database file)",
        "/dev/null: the record store cannot be written (read-only file or folder; SQLite "
        "said: disk I/O error); give a store that can be written, or --no-records",
        "s.sqlite: the record store stayed locked by another writer (database is locked)",
        "s.sqlite: the record store cannot grow: the disk is full (database or disk is full)",
    ],
)
def test_the_record_store_s_messages_read_in_chinese(text: str) -> None:
    from costperf.errors import InputError, chinese_summary

    shown = chinese_summary(InputError(text))
    assert "暂无中文" not in shown and "记录库" in shown, shown


@pytest.mark.parametrize(
    ("text", "zh"),
    [  # found by an audit: standards check showed these in English (暂无中文译文)
        (
            "sha256:ab12: the content changed after the version was sealed; published "
            "versions are immutable, make a new version instead",
            "sha256:ab12：版本封存后内容被改动；已发布的版本不可更改，请另建新版本",
        ),
        (
            "one of the values declared for 'staff_level': 省部级, 厅局级 (or '*' / blank for "
            "all; several joined by '|')",
            "staff_level 已声明的取值之一：省部级, 厅局级（或 '*' / 留空表示全部；多个值以 '|' 连接）",
        ),
    ],
)
def test_the_standards_checks_read_in_chinese(text: str, zh: str) -> None:
    from costperf.columns import expected_label

    assert expected_label(text, "zh") == zh
    assert expected_label(text, "en") == text


def test_sqlites_own_words_and_a_table_id_read_in_chinese() -> None:
    """SQLite's reason is translated where labels.csv knows it; an expected text that
    starts with a table id keeps a space after 应为."""
    from costperf.columns import expected_label
    from costperf.errors import format_problem_zh

    text = "r.sqlite: not a costperf record store (SQLite said: file is not a database)"
    assert (
        expected_label(text, "zh")
        == "r.sqlite：不是 costperf 记录库（SQLite 报告：文件不是数据库）"
    )
    row = {"source_file": "a.csv", "source_row": 3, "column": "item", "value": "x"}
    row |= {"expected": "an item of office-equipment: 台式计算机", "check": "unknown_category"}
    assert "应为 office-equipment 标准表中的品目：台式计算机" in format_problem_zh(row)


def test_each_label_is_given_once() -> None:
    """A (kind, code) pair has one row in labels.csv: a second row (two changes adding
    the same code) would silently win or lose by file order."""
    from costperf.columns import code_labels

    table = code_labels().reset_index()
    twice = table[table.duplicated(["kind", "code"], keep=False)]
    assert twice.empty, twice[["kind", "code", "label_en"]].to_string()


def test_a_problem_is_placed_in_the_words_of_each_language() -> None:
    """The place of a problem (file, sheet, row, column or option) comes from labels.csv
    in both languages, with the user's names exactly as written (no plural rule)."""
    from costperf.errors import format_problem, format_problem_zh

    row = {
        "source_file": "b.xlsx",
        "sheet": "1 items",
        "source_row": 7.0,
        "column": "人数",
        "value": "x",
        "check": "not_a_number",
        "expected": "a number",
    }
    assert (
        format_problem(row)
        == "b.xlsx, sheet '1 items', row 7, column '人数': got 'x', expected a number"
    )
    assert (
        format_problem_zh(row)
        == "b.xlsx，工作表“1 items”，第 7 行，列“人数”：不是数字，值 'x'，应为数字"
    )
    option = {"column": "--date", "value": "x", "check": "option"}
    assert format_problem(option) == "option '--date': got 'x'"
    assert format_problem_zh(option) == "选项“--date”：命令行选项错误，值 'x'"
    assert (
        format_problem_zh({"column": "column 8", "check": "not_a_number"})
        == "列“第 8 列”：不是数字"
    )
