"""CLI sub-commands: one module each, exposing ``add_parser(subparsers)``.

``add_parser`` registers the sub-command and sets ``func`` (a callable taking the parsed
arguments and returning an exit status).  Heavy imports (pandas, patsy, highspy)
belong inside the function bodies, so ``costperf --help`` starts fast.
"""

from __future__ import annotations

COMMAND_MODULES = [
    "run",
    "decompose",
    "benchmark",
    "costmodel",
    "dea",
    "standards",
    "review",
    "template",
    "records",
    "optimize",
]
