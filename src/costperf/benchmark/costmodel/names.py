"""R's coefficient names for patsy's (``C(grade)[T.B]`` -> ``gradeB``)."""

from __future__ import annotations

import re

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
