"""The format as data: table kinds and statuses, the header schema (key -> type,
required) for every section and rule type, and the columns of the value file and of
the loaded long frame."""

from __future__ import annotations

#: the kinds and statuses of a table (their words: labels.csv standard_kind, standard_status)
KINDS = ("price_cap", "quantity_norm", "composite_quota", "unit_cost", "baseline")
STATUSES = ("draft", "published", "retired")
CONFIDENCES = ("V", "S", "U")
WILDCARD = "*"
LIST_SEPARATOR = "|"
ROUNDING_MODES = ("half_up", "half_even", "down", "up", "floor", "ceiling")
#: header keys left out of the content hash: retiring or sealing a version is not an edit.
UNHASHED_KEYS = ("content_hash", "status", "effective_to")

# ---- the header schema: key -> (type, required) -------------------------------------

HEADER_KEYS: dict[str, tuple[str, bool]] = {
    "table_id": ("id", True),
    "version": ("int", True),
    "status": ("status", True),
    "kind": ("kind", True),
    "title": ("str", True),
    "title_en": ("str", False),
    "issuer": ("str", True),
    "jurisdiction": ("str", False),
    "class_of_matter": ("str", False),
    "scope_econ_codes": ("str_list", False),
    "effective_from": ("date", True),
    "effective_to": ("date", False),
    "values": ("str", False),
    "content_hash": ("str", False),
    "unverified": ("str_list", False),
    "confidence": ("confidence", False),
    "notes": ("str_list", False),
    "notes_en": ("str_list", False),
    "source": ("table", True),
    "dimensions": ("table", False),
    "items": ("table", True),
    "components": ("table", False),
    "composite": ("table", False),
    "rules": ("table", False),
    "uprate": ("table", False),
    "layout": ("table", False),
}
SOURCE_KEYS = {
    "document": ("str", False),
    "document_no": ("str", False),
    "reference": ("str", False),
    "url": ("str", False),
    "note": ("str", False),
    "method": ("str", False),
    "parameters": ("table", False),
    "data_hash": ("str", False),
    "peer_rows": ("str", False),
    "standard": ("str", False),
    "basis": ("str", False),
    "basis_hash": ("str", False),
    "index": ("number", False),
    "rounding": ("str", False),
}
DIMENSION_KEYS = {
    "label_zh": ("str", True),
    "label_en": ("str", False),
    "values": ("str_list", False),
    "aliases": ("str_map", False),
    "strip_suffixes": ("str_list", False),
    "wildcard_zh": ("str", False),
    "wildcard_en": ("str", False),
    "default": ("str", False),
}
LABEL_KEYS = {
    "label_zh": ("str", True),
    "label_en": ("str", False),
    "group_zh": ("str", False),
    "group_en": ("str", False),
    "kind": ("kind", False),
}
COMPOSITE_KEYS = {
    "total": ("str", True),
    "components": ("str_list", True),
    "offset_allowed": ("bool", False),
}
UPRATE_KEYS = {"step": ("positive", False), "mode": ("rounding", False)}
LAYOUT_KEYS = {"rows": ("str_list", False), "columns": ("str_list", False)}
RULE_COMMON = {
    "type": ("str", True),
    "label_zh": ("str", False),
    "label_en": ("str", False),
    "note_zh": ("str", False),
    "note_en": ("str", False),
    "confidence": ("confidence", False),
}
RULE_KEYS: dict[str, dict[str, tuple[str, bool]]] = {
    "option": {"value": ("any", True)},
    "limit": {"max": ("number", False), "min": ("number", False), "unit": ("str", False)},
    "tiers": {
        "var": ("str", True),
        "tiers": ("list", True),
        "item": ("str", False),
        "component": ("str", False),
        "rounding": ("str", False),
    },
    "seasons": {
        "dim": ("str", True),
        "key": ("str", True),
        "peak": ("str", True),
        "off_peak": ("str", True),
        "windows": ("table", True),
    },
    "map": {
        "dim": ("str", True),
        "key": ("str", True),
        "map": ("str_map", True),
        "strip_suffixes": ("str_list", False),
    },
    "bands": {"dim": ("str", True), "key": ("str", True), "bands": ("list", True)},
}
#: rules that derive a dimension of the query from another column (and the date).
DERIVING_RULES = ("seasons", "map", "bands")

# ---- the value file ------------------------------------------------------------------

VALUE_FILE_COLUMNS = (
    "item",
    "component",
    "value",
    "lower",
    "upper",
    "unit",
    "kind",
    "confidence",
    "note",
)
REQUIRED_VALUE_COLUMNS = ("item", "value", "unit")
#: columns of the loaded long frame (dimension columns go after ``component_zh``).
FRAME_COLUMNS = (
    "table_id",
    "version",
    "status",
    "standard_id",
    "kind",
    "item",
    "item_zh",
    "component",
    "component_zh",
    "name",
    "name_zh",
)
FRAME_TAIL = (
    "unit",
    "value",
    "lower",
    "upper",
    "effective_from",
    "effective_to",
    "scope_econ_codes",
    "verified",
    "confidence",
    "note",
    "title",
    "issuer",
    "jurisdiction",
    "source_document",
    "document_no",
    "source_method",
    "content_hash",
    "source_file",
    "source_row",
)
RESERVED_NAMES = (
    set(FRAME_COLUMNS)
    | set(FRAME_TAIL)
    | set(VALUE_FILE_COLUMNS)
    | {"sheet", "table", "date", "on", "lookup_status", "season_rule"}
)
