"""Examples shown at the end of each command's ``--help`` (argparse epilog).

Paths point at the shipped cases, so each line runs from a checkout as written; every
output goes under ``out/`` (git-ignored). A command that already has an epilog of its
own keeps it.
"""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "run": [
        "costperf run cases/sanitation-5-districts --out out/sanitation",
        "costperf run cases/sanitation-5-districts --out out/sanitation-en --lang en",
        "costperf run cases/sanitation-5-districts --out out/s --no-records",
    ],
    "dea": [
        "costperf dea out/sanitation/report.xlsx --sheet 合同单位成本 \\",
        "    --inputs 人员成本合计,设备成本,材料成本 --outputs 产出量 --rts vrs -o out/dea.xlsx",
        "costperf dea units.csv --inputs cost --outputs area --super -o out/dea.csv --lang en",
    ],
    "standards": [
        "costperf standards list",
        "costperf standards lookup travel-lodging --on 2016-08-01 --item 住宿费 \\",
        "    -d 城市=大连 -d staff_level=其他人员",
        "costperf standards publish meeting-fee --format html -o out/meeting-fee.html",
        "costperf standards derive cases/sanitation-5-districts --out out/derived",
    ],
    "standards list": ["costperf standards list", "costperf standards list --lang en"],
    "standards show": [
        "costperf standards show meeting-fee",
        "costperf standards show meeting-fee@1",
    ],
    "standards check": [
        "costperf standards check",
        "costperf standards check --standards my-tables",
    ],
    "standards diff": ["costperf standards diff travel-lodging@1 travel-lodging@2"],
    "standards uprate": [
        "costperf standards uprate meeting-fee --index 1.03 --effective 2027-01-01 -o out/uprated",
    ],
    "standards publish": [
        "costperf standards publish meeting-fee --format html -o out/meeting-fee.html",
        "costperf standards publish meeting-fee --format xlsx -o out/meeting-fee.xlsx",
    ],
    "standards seal": ["costperf standards seal out/derived/standards/hw-uc-v1.toml"],
    "standards lookup": [
        "costperf standards lookup travel-lodging --on 2016-08-01   # lists items and dimensions",
        "costperf standards lookup travel-lodging --on 2016-08-01 --item 住宿费 \\",
        "    -d 城市=大连 -d 人员级别=其他人员",
        "costperf standards lookup hw-uc --on 2027-03-01 --item 环卫保洁单位成本 -d 道路等级=一级 \\",
        "    --standards cases/requests-2027/standards",
    ],
    "standards derive": [
        "costperf standards derive cases/sanitation-5-districts --out out/derived",
        "costperf standards derive cases/sanitation-5-districts --rule p25 --out out/p25",
    ],
    "optimize": [
        "costperf optimize cases/sanitation-5-districts --out out/optimize",
        "costperf optimize cases/household-survey --out out/survey --solver cbc",
        "costperf optimize --model cases/sanitation-5-districts/optimize --out out/model \\",
        "    --write-lp out/model.lp --lang en",
    ],
    "template": ["costperf template requests -o out/申报书.xlsx"],
    "records": [
        "costperf records list runs --records out/sanitation/records.sqlite",
        "costperf records history --out out/history --records out/sanitation/records.sqlite",
    ],
    "records import-monitoring": [
        "costperf records import-monitoring monitoring.csv --out out/monitoring "
        "--records out/records.sqlite"
    ],
    "records import-evaluation": [
        "costperf records import-evaluation evaluations.csv --out out/evaluations "
        "--records out/records.sqlite"
    ],
    "records feedback": [
        "costperf records feedback --year 2026 --out out/feedback --records out/records.sqlite"
    ],
    "records rederive": [
        "costperf records rederive --class 环卫保洁 --year 2026 --out out/rederived "
        "--records out/records.sqlite"
    ],
    "records list": ["costperf records list decisions --records out/sanitation/records.sqlite"],
    "records show": ["costperf records show RUN_ID --records out/sanitation/records.sqlite"],
    "records export": [
        "costperf records export -o out/records.xlsx --records out/sanitation/records.sqlite"
    ],
    "records history": [
        "costperf records history --out out/history --records out/sanitation/records.sqlite"
    ],
}


def epilog(command: str) -> str:
    """The ``Examples:`` block of ``command`` ('' when none is listed)."""
    lines = EXAMPLES.get(command)
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else ""
