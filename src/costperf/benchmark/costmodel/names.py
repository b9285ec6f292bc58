"""R's coefficient names for patsy's (``C(grade)[T.B]`` -> ``gradeB``)."""

from __future__ import annotations

import re
from collections.abc import Callable

_R_FACTOR = re.compile(r"^(?:C\((?P<c>[^,()]+)\)|(?P<v>[^\[\]]+))\[T\.(?P<level>.*)\]$")


def r_term_name(name: str) -> str:
    """R's name of a patsy coefficient: ``Intercept`` -> ``(Intercept)``,
    ``np.log(q)`` -> ``log(q)``, ``C(grade)[T.B]`` -> ``gradeB`` (term ``C(grade)`` ->
    ``grade``), ``I(x ** 2)`` ->
    ``I(x^2)``; interactions part by part (``a:b``)."""
    if name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in name.split(":"):
        match = _R_FACTOR.match(part)
        if match:
            part = (match.group("c") or match.group("v")).strip() + match.group("level")
        part = re.sub(r"^C\(([^,()]+)\)$", r"\1", part)  # a factor term: C(g) -> g
        part = re.sub(r"\b(?:np|numpy)\.", "", part).replace(" ** ", "^").replace("**", "^")
        parts.append(re.sub(r"""Q\((['"])(.*?)\1\)""", r"`\2`", part))
    return ":".join(parts)


_LOG = re.compile(r"(?:np\.|numpy\.)?log\(\s*([A-Za-z_]\w*)\s*\)")
_NAME = re.compile(r"[A-Za-z_]\w*")


def term_words(name: str, label: Callable[[str], str], lang: str = "zh") -> str:
    """A patsy coefficient or term as a reader says it (``labels.csv`` messages
    ``regression_term.*``): ``Intercept`` -> 截距, ``np.log(area_m2)`` -> ln(保洁面积),
    ``C(road_grade)[T.二级]`` -> 道路等级：二级, ``C(road_grade)`` -> 道路等级;
    interactions part by part (``a × b``). ``label`` names a data column; a part it
    cannot read (``I(x ** 2)``) stays as written."""
    from costperf.labels import message

    if name == "Intercept":
        return message("regression_term.intercept", lang)
    parts = []
    for part in name.split(":"):
        level = None
        match = _R_FACTOR.match(part)
        if match:
            part, level = (match.group("c") or match.group("v")).strip(), match.group("level")
        part = re.sub(r"^C\(([^,()]+)\)$", r"\1", part).strip()
        found = _LOG.fullmatch(part)
        if found:
            shown = message("regression_term.log", lang, name=label(found.group(1)))
        else:
            shown = label(part) if _NAME.fullmatch(part) else part
        if level is not None:
            shown = message("regression_term.level", lang, name=shown, level=level)
        parts.append(shown)
    return " × ".join(parts)
