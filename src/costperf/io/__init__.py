"""I/O at the edges: the only package that opens data files."""

from __future__ import annotations

from costperf.io.read import (
    map_headers,
    read_checked,
    read_line_items,
    read_outputs,
    read_projects,
    read_table,
)
from costperf.io.write import (
    atomic_path,
    neutralise_frame,
    neutralise_text,
    write_table,
    write_text,
)

__all__ = [
    "atomic_path",
    "map_headers",
    "neutralise_frame",
    "neutralise_text",
    "read_checked",
    "read_line_items",
    "read_outputs",
    "read_projects",
    "read_table",
    "write_table",
    "write_text",
]
