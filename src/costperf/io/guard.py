"""Checks on an input file before any parser sees it: what it is, how big, how safe.

Every data file comes from outside.  Before pandas, calamine or pyarrow open one:

* only a regular file is read (a FIFO would block, ``/dev/zero`` never ends);
* the file, the uncompressed parts of a workbook (read from the zip directory *and*
  counted while inflating, so a lying directory does not help) and the table's cell
  count are held to :class:`Limits`;
* XML with a document type declaration (``<!DOCTYPE``, hence ``<!ENTITY``) is refused;
* the sheet about to be read is scanned once, streaming, for the cell references that
  decide how much memory the reader allocates (one cell at ``XFD1048576`` makes a
  17-billion-cell grid) and for formula cells that carry no cached value;
* a CSV is scanned for its encoding line by line (a GBK line in a UTF-8 file is named),
  its separator (Excel's "Unicode text" is UTF-16 with tabs) and its size in cells.

The limits have defaults and can be raised with environment variables
(:data:`LIMIT_VARIABLES`), documented in the README.
"""

from __future__ import annotations

import codecs
import html
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from costperf.errors import InputError, located_error, make_problems

MIB = 1024 * 1024
LIMIT_VARIABLES = {
    "max_file_bytes": ("COSTPERF_MAX_FILE_MB", 256, MIB),
    "max_expanded_bytes": ("COSTPERF_MAX_EXPANDED_MB", 512, MIB),
    "max_cells": ("COSTPERF_MAX_CELLS", 20_000_000, 1),
    "max_cell_chars": ("COSTPERF_MAX_CELL_CHARS", 32_767, 1),
}
"""Limit -> (environment variable, default, unit in bytes or 1)."""

FORMULA_WITHOUT_VALUE = "a formula with its value: recalculate and save the workbook in Excel"
EXCEL_ERROR = "a value, not an Excel error: correct the formula or the cell"
MERGED_CELLS = "a value in each row, not merged cells: unmerge the range and fill every cell"
_CHUNK = 1 << 20
_MAX_ZIP_ENTRIES = 10_000
_MAX_PROLOG = 1 << 20
_MAX_INDEX_PART = 16 * MIB  # workbook.xml and its relationships
_GBK_EVIDENCE = 1000  # non-UTF-8 lines, none UTF-8: the file is GBK/GB18030 throughout


@dataclass(frozen=True)
class Limits:
    """How much one input may hold.

    Attributes
    ----------
    max_file_bytes
        Size of an input file on disk. [bytes]
    max_expanded_bytes
        Uncompressed size of one part of an xlsx (a sheet's XML, the shared strings) or
        of a Parquet file's data. [bytes]
    max_cells
        Rows x columns of one sheet or table (as the reader would allocate them).
    max_cell_chars
        Characters in one cell (Excel's own limit is 32,767).
    """

    max_file_bytes: int
    max_expanded_bytes: int
    max_cells: int
    max_cell_chars: int

    def variable(self, name: str) -> str:
        """The environment variable that sets limit ``name``."""
        return LIMIT_VARIABLES[name][0]


def input_limits() -> Limits:
    """The limits in force: the defaults, or the environment variables that set them."""
    values = {}
    for name, (variable, default, unit) in LIMIT_VARIABLES.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            values[name] = default * unit
            continue
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not number > 0 or number == float("inf"):
            msg = f"environment variable {variable}={text!r}: expected a number > 0"
            raise located_error(msg, column=variable, value=text, expected="a number > 0")
        values[name] = round(number * unit)
    return Limits(**values)


def _megabytes(size: int) -> str:
    """A size in MB, with the digits that tell a small limit from none (0.01 MB)."""
    return f"{size / MIB:,.1f} MB" if size >= MIB else f"{size / MIB:.3g} MB"


def check_input_file(path: Path, limits: Limits) -> os.stat_result:
    """Refuse what is not a regular, readable file within the size limit."""
    try:
        info = path.stat()
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise located_error(
            msg, source_file=path, expected="an existing data file", check="file_not_found"
        ) from None
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc})"
        raise located_error(
            msg, source_file=path, expected="a readable data file", check="unreadable_file"
        ) from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        msg = f"{path}: is a folder, expected a data file (.csv, .xlsx, .parquet)"
        raise located_error(
            msg,
            source_file=path,
            check="not_a_file",
            expected="a data file (.csv, .xlsx, .parquet), not a folder",
        )
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        msg = f"{path}: is {kind}, not a regular file; expected a data file"
        raise located_error(
            msg, source_file=path, check="not_a_file", expected="a regular data file"
        )
    if info.st_size > limits.max_file_bytes:
        msg = (
            f"{path}: the file is {_megabytes(info.st_size)}, more than the limit of "
            f"{_megabytes(limits.max_file_bytes)} for an input file "
            f"(set {limits.variable('max_file_bytes')} to raise it)"
        )
        raise located_error(
            msg,
            source_file=path,
            value=_megabytes(info.st_size),
            check="file_too_large",
            expected=f"a file of at most {_megabytes(limits.max_file_bytes)} "
            f"(set {limits.variable('max_file_bytes')} to raise it)",
        )
    if not os.access(path, os.R_OK):
        msg = f"{path}: cannot be read (permission denied)"
        raise located_error(
            msg, source_file=path, expected="a readable data file", check="unreadable_file"
        )
    return info


def too_many_cells(
    path: Path, sheet: str, rows: int, columns: int, limits: Limits, *, what: str = ""
) -> InputError:
    """The error for a table larger than ``limits.max_cells``."""
    where = f"{path}" + (f", sheet '{sheet}'" if sheet else "")
    detail = f" ({what})" if what else ""
    msg = (
        f"{where}: the table spans {rows:,} rows x {columns:,} columns{detail}, more than the "
        f"limit of {limits.max_cells:,} cells (set {limits.variable('max_cells')} to raise it)"
    )
    return located_error(
        msg,
        source_file=path,
        sheet=sheet,
        value=f"{rows:,} x {columns:,}",
        check="table_too_large",
        expected=f"at most {limits.max_cells:,} cells",
    )


# ---- workbooks (zip of XML parts) ---------------------------------------------------


def _unreadable(path: Path, detail: str) -> InputError:
    msg = f"{path}: not a readable Excel workbook ({detail})"
    return located_error(
        msg,
        source_file=path,
        check="unreadable_workbook",
        expected="an Excel workbook (.xlsx) that Excel can open",
    )


def _refused_xml(path: Path, part: str, detail: str) -> InputError:
    msg = (
        f"{path}: the workbook part {part} {detail}; refused (workbooks saved by Excel or WPS "
        "never contain one)"
    )
    return located_error(
        msg,
        source_file=path,
        value=part,
        check="unsafe_xml",
        expected="an Excel workbook without DTD or entity declarations",
    )


def _part_chunks(handle, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """Inflate one zip entry from its raw bytes, ignoring the declared uncompressed size."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _unreadable(path, f"damaged zip entry {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    remaining = info.compress_size
    if info.flag_bits & 0x1:
        raise _unreadable(path, "the workbook is password-protected")
    if info.compress_type == zipfile.ZIP_STORED:
        while remaining > 0:
            data = handle.read(min(_CHUNK, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise _unreadable(path, f"unsupported compression in {info.filename}")
    inflater = zlib.decompressobj(-15)
    while remaining > 0 and not inflater.eof:
        data = handle.read(min(_CHUNK, remaining))
        if not data:
            break
        remaining -= len(data)
        try:
            out = inflater.decompress(data, _CHUNK)
            while True:
                if out:
                    yield out
                if not inflater.unconsumed_tail or inflater.eof:
                    break
                out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise _unreadable(path, f"damaged data in {info.filename}: {exc}") from None


def _check_prolog(chunks: Iterator[bytes], path: Path, part: str) -> None:
    """Refuse a document type declaration (and non-UTF-8 XML) before the root element."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        verdict = _prolog_verdict(buffer)
        if verdict is not None:
            break
        if len(buffer) > _MAX_PROLOG:
            raise _refused_xml(path, part, "has an XML prolog longer than 1 MB")
    else:
        verdict = _prolog_verdict(buffer, complete=True)
    if verdict == "doctype":
        raise _refused_xml(path, part, "declares a DTD or entities (<!DOCTYPE>)")
    if verdict == "encoding":
        raise _refused_xml(path, part, "is not UTF-8 XML")


def _prolog_verdict(data: bytes, *, complete: bool = False) -> str | None:
    """'ok', 'doctype', 'encoding', or None when more bytes are needed."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:2] in (b"\x00<", b"<\x00"):
        return "encoding"
    pos = 3 if data.startswith(codecs.BOM_UTF8) else 0
    while True:
        while pos < len(data) and data[pos : pos + 1] in b" \t\r\n":
            pos += 1
        if pos >= len(data):
            return "ok" if complete else None
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                return "ok" if complete else None
            pos = end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                return "ok" if complete else None
            pos = end + 3
        elif data.startswith(b"<!", pos):
            return "doctype"
        elif len(data) - pos < 2 and not complete:
            return None
        else:
            return "ok"


@dataclass
class Workbook:
    """What the zip directory says about a workbook: its entries and sheet parts."""

    path: Path
    entries: dict[str, zipfile.ZipInfo]
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> part name


def check_workbook(path: Path, limits: Limits) -> Workbook | None:
    """Check an xlsx/ods zip before any reader parses it; None if it is not a zip (.xls).

    Every part's declared size is held to ``limits.max_expanded_bytes`` and every XML
    part's prolog is checked for a DTD.
    """
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from None
    if len(infos) > _MAX_ZIP_ENTRIES:
        raise _unreadable(path, f"{len(infos):,} zip entries")
    for info in infos:
        if info.file_size > limits.max_expanded_bytes:
            raise expanded_too_large(path, info.filename, info.file_size, limits)
    book = Workbook(path, {i.filename: i for i in infos})
    with path.open("rb") as handle:
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                _check_prolog(_part_chunks(handle, info, path), path, info.filename)
        book.sheet_parts = _sheet_parts(book, handle)
    return book


def expanded_too_large(path: Path, part: str, size: int, limits: Limits) -> InputError:
    """The error for a workbook part that inflates beyond the limit."""
    msg = (
        f"{path}: the workbook part {part} expands to {_megabytes(size)} or more, beyond the "
        f"limit of {_megabytes(limits.max_expanded_bytes)} "
        f"(set {limits.variable('max_expanded_bytes')} to raise it)"
    )
    return located_error(
        msg,
        source_file=path,
        value=part,
        check="workbook_too_large",
        expected=f"workbook parts of at most {_megabytes(limits.max_expanded_bytes)} "
        f"(set {limits.variable('max_expanded_bytes')} to raise it)",
    )


def _read_part(book: Workbook, handle, name: str) -> bytes | None:
    info = book.entries.get(name)
    if info is None or info.file_size > _MAX_INDEX_PART:
        return None
    data = b""
    for chunk in _part_chunks(handle, info, book.path):
        data += chunk
        if len(data) > _MAX_INDEX_PART:
            return None
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _sheet_parts(book: Workbook, handle) -> dict[str, str]:
    """Sheet name -> zip part of its XML, from workbook.xml and its relationships."""
    index = next((n for n in book.entries if n.lower().endswith("workbook.xml")), None)
    if index is None:
        return {}
    folder, name = posixpath.split(index)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    workbook, rels = _read_part(book, handle, index), _read_part(book, handle, rels_name)
    if workbook is None or rels is None:
        return {}
    try:  # no DTD (checked above), so no entity can expand
        sheets = ElementTree.fromstring(workbook)
        relations = ElementTree.fromstring(rels)
    except ElementTree.ParseError:
        return {}
    targets = {}
    for element in relations.iter():
        if _local(element.tag) == "Relationship":
            target = element.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            targets[element.get("Id")] = posixpath.normpath(full)
    parts = {}
    for element in sheets.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        if rid in targets and element.get("name") is not None:
            parts[element.get("name")] = targets[rid]
    return parts


@dataclass
class SheetScan:
    """What a streaming pass over one sheet's XML found."""

    max_row: int = 0
    max_column: int = 0
    expanded_bytes: int = 0
    formulas_without_value: list[tuple[int, int, str]] = field(default_factory=list)
    #: cells holding an Excel error (#DIV/0!, #N/A, #REF! ...): (row, column, the error)
    error_cells: list[tuple[int, int, str]] = field(default_factory=list)
    #: merged ranges: (first row, first column, last row, last column)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


def column_number(letters: str) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27, ``XFD`` -> 16384."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


_REF = re.compile(rb'\sr=["\']([A-Za-z]*)([0-9]*)')  # one cell's reference, any spelling
# every cell element start, with its reference when written as Excel writes it:
# '<c r="B7"' gives b"B7"; any other spelling ('<c s="1" r=..', "r='B7'", '<c\tr=..',
# '<c>', lower case) gives b"", and the sheet is then parsed with expat instead
_CELL = re.compile(rb'<c(?: r="([A-Z0-9]*)|[\s>/])')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_FORMULA_TEXT = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>", re.S)
_TYPE = re.compile(rb'\st=["\'](\w+)')
_ERROR_CELL = re.compile(rb'<c(\s[^>]*?\st=["\']e["\'][^>]*)(?<!/)>(.*?)</c>', re.S)
_MERGE = re.compile(rb'<mergeCell\s[^>]*?ref=["\']([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?["\']')
_LETTERS = bytes(range(65, 91))
_MAX_TAG = 1 << 16


def scan_sheet(book: Workbook, part: str, limits: Limits) -> SheetScan:
    """Stream one sheet part: its true size, extent and formulas without cached values.

    A fast pass reads the cell references written as Excel writes them
    (``<c r="B7"``); a sheet with any other spelling, a prefixed element, a DTD marker or
    a reference too long to be real is scanned again with expat, which places every
    cell as a reader does.
    """
    info = book.entries[part]
    scan = SheetScan()
    odd = False
    with book.path.open("rb") as handle:
        tail = b""  # from the last tag start of the previous chunk: no tag is cut
        pending = b""  # the start of a cell element not yet closed, for formulas
        for chunk in _part_chunks(handle, info, book.path):
            scan.expanded_bytes += len(chunk)
            if scan.expanded_bytes > limits.max_expanded_bytes:
                raise expanded_too_large(book.path, part, scan.expanded_bytes, limits)
            if odd:
                continue  # only counting now
            window = tail + chunk
            cut = window.rfind(b"<")
            if cut < 0 or len(window) - cut > _MAX_TAG:
                cut = len(window)
            region, tail = window[:cut], window[cut:]
            odd = _odd(region) or _references(region, scan)
            if scan.max_row * scan.max_column > limits.max_cells:
                return scan  # the caller reports the extent
            pending = _formula_cells(pending + chunk, scan)
        if not odd:
            odd = _odd(tail) or _references(tail, scan)
            if pending:
                _formula_cells(pending + b"</c>", scan)
    if odd:  # parse properly; slower, but only for files Excel does not write
        scan = _scan_with_expat(book, part, limits)
    return scan


def _odd(region: bytes) -> bool:
    """Markup the fast pass does not read: a namespace prefix on cells ('<x:c r=..';
    Excel writes none).  A DTD can only come before the root element (refused there)."""
    return b":c" in region


def _references(region: bytes, scan: SheetScan) -> bool:
    """Widen ``scan`` by the cell references in ``region`` (whole tags only).

    Returns True when the fast pass cannot be trusted: a cell without a reference in
    Excel's spelling, or one with more than 3 letters or 7 digits.
    """
    refs = _CELL.findall(region)
    if not refs:
        return False
    if b"" in refs:
        return True
    blob = b" ".join(refs)
    rows = blob.translate(None, _LETTERS).split()
    letters = blob.translate(None, b"0123456789").split()
    if len(rows) != len(refs) or len(letters) != len(refs):
        return True  # 'B' without a row, or '7' without a column
    rows, letters = set(rows), set(letters)  # few distinct values: cheap to look at
    if max(map(len, letters)) > 3 or max(map(len, rows)) > 7:
        return True
    scan.max_row = max(scan.max_row, max(map(int, rows)))
    scan.max_column = max(scan.max_column, max(column_number(c.decode()) for c in letters))
    return False


def _formula_cells(data: bytes, scan: SheetScan) -> bytes:
    """Record formula cells without a value in the complete cells of ``data``.

    Returns the unfinished rest (from the last cell still open), at most 1 MB.
    """
    end = data.rfind(b"</c>")
    if end < 0:
        return data[-_CHUNK:]
    done, rest = data[: end + 4], data[end + 4 :]
    _errors_and_merges(done, scan)
    if b"<f" not in done and b":f" not in done:
        return rest
    for found in _FORMULA.finditer(done):
        start = max(done.rfind(b"<c ", 0, found.start()), done.rfind(b"<c>", 0, found.start()))
        close = done.find(b"</c>", found.start())
        if start < 0 or close < 0:
            continue
        cell = done[start:close]
        tag_end = cell.find(b">")
        value = _VALUE.search(cell)
        kind = _TYPE.search(cell[:tag_end])
        cached = value is not None and (
            value.group(1).strip() != b"" or (kind is not None and kind.group(1) == b"str")
        )
        if cached:
            continue
        ref = _REF.search(cell[:tag_end])
        row = int(ref.group(2)) if ref else 0
        column = column_number(ref.group(1).decode("ascii")) if ref else 0
        text = _FORMULA_TEXT.search(cell)
        formula = html.unescape(text.group(1).decode("utf-8", "replace")) if text else ""
        scan.formulas_without_value.append((row, column, formula))
    return rest


def _errors_and_merges(done: bytes, scan: SheetScan) -> None:
    """Record the error cells and merged ranges in the complete cells of ``done``."""
    if b'"e"' in done or b"'e'" in done:
        for found in _ERROR_CELL.finditer(done):
            ref = _REF.search(found.group(1))
            value = _VALUE.search(found.group(2))
            text = html.unescape(value.group(1).decode("utf-8", "replace")) if value else "#?"
            row = int(ref.group(2)) if ref else 0
            column = column_number(ref.group(1).decode("ascii")) if ref else 0
            scan.error_cells.append((row, column, text))
    if b"mergeCell" in done:
        for found in _MERGE.finditer(done):
            first, last = found.group(1).decode(), (found.group(3) or found.group(1)).decode()
            row1, row2 = int(found.group(2)), int(found.group(4) or found.group(2))
            scan.merged.append((row1, column_number(first), row2, column_number(last)))


class _TooLarge(Exception):
    """The sheet already reaches beyond the cell limit: stop scanning."""


def _scan_with_expat(book: Workbook, part: str, limits: Limits) -> SheetScan:
    """The same scan with a real XML parser (no DTD, no entities); cells and rows
    without a reference are placed after the previous one, as readers place them."""
    scan = SheetScan()
    state: dict[str, object] = {"cell": None, "row": 0, "column": 0, "in": None}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        ref = next((v for k, v in attrs.items() if _local(k) == "r"), None)
        if local == "row":
            state["row"] = int(ref) if ref and ref.strip().isdigit() else int(state["row"]) + 1
            state["column"] = 0
            scan.max_row = max(scan.max_row, int(state["row"]))
        elif local == "c":
            row, column = _split_ref(ref)
            row = row or int(state["row"])
            column = column or int(state["column"]) + 1
            state["row"], state["column"] = row, column
            scan.max_row, scan.max_column = max(scan.max_row, row), max(scan.max_column, column)
            if scan.max_row * scan.max_column > limits.max_cells:
                raise _TooLarge
            state["cell"] = {"row": row, "column": column, "t": attrs.get("t", "")}
            state["f"] = state["v"] = None
        elif local in ("f", "v") and state["cell"] is not None:
            state[local] = ""
            state["in"] = local
        elif local == "mergeCell":
            ref = next((v for k, v in attrs.items() if _local(k) == "ref"), "")
            first, _, last = ref.partition(":")
            (row1, column1), (row2, column2) = _split_ref(first), _split_ref(last or first)
            if row1 and column1 and row2 and column2:
                scan.merged.append((row1, column1, row2, column2))

    def text(data: str) -> None:
        key = state["in"]
        if key and state.get(key) is not None:
            state[key] = str(state[key]) + data

    def end(name: str) -> None:
        local = _local(name)
        if local in ("f", "v"):
            state["in"] = None
        elif local == "c" and state["cell"] is not None:
            cell, value = state["cell"], state.get("v")
            cached = value is not None and (value.strip() != "" or cell["t"] == "str")
            if state.get("f") is not None and not cached:
                scan.formulas_without_value.append((cell["row"], cell["column"], state["f"]))
            elif cell["t"] == "e":
                scan.error_cells.append((cell["row"], cell["column"], (value or "#?").strip()))
            state["cell"] = None

    parser = expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    _parse_part(parser, book, part, scan, limits)
    return scan


def _parse_part(parser, book: Workbook, part: str, scan: SheetScan, limits: Limits) -> None:  # noqa: ANN001
    """Feed one zip part to an expat ``parser``, its inflated size counted in ``scan``
    and held to the limit; a DTD or entity declaration is refused, malformed XML is the
    user's file, and a scan stopped beyond the cell limit (``_TooLarge``) ends quietly."""

    def refuse(*_: object) -> None:
        raise _refused_xml(book.path, part, "declares a DTD or entities (<!DOCTYPE>)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    with book.path.open("rb") as handle:
        try:
            for chunk in _part_chunks(handle, book.entries[part], book.path):
                scan.expanded_bytes += len(chunk)
                if scan.expanded_bytes > limits.max_expanded_bytes:
                    raise expanded_too_large(book.path, part, scan.expanded_bytes, limits)
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _unreadable(book.path, f"malformed XML in {part}: {exc}") from None
        except _TooLarge:
            pass  # the caller reports the extent


_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODS_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
#: what a spreadsheet shows for a formula that failed (Excel's and LibreOffice's spellings)
_ERROR_TEXT = re.compile(r"#(?:DIV/0!|N/A|NAME\?|NULL!|NUM!|REF!|VALUE!|SPILL!|CALC!)|Err:\d{3}")


def _repeat(attrs: dict[str, str], name: str) -> int:
    """A ``table:number-*-repeated`` or ``-spanned`` count (1 when absent or damaged)."""
    value = attrs.get(f"{_ODS_TABLE} {name}", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def scan_ods_sheet(book: Workbook, sheet: str, limits: Limits) -> SheetScan:
    """The scan of :func:`scan_sheet` for one table of an OpenDocument spreadsheet's
    ``content.xml`` (expat, no DTD): rows and cells placed with their repeat counts,
    formula cells without a value type, error cells (LibreOffice's ``calcext`` error
    type, or a formula showing #DIV/0!, Err:502 ...) and spanned (merged) cells.

    The extent counts only cells with something in them: LibreOffice writes the empty
    rest of a sheet as one row repeated a million times.
    """
    scan = SheetScan()
    state: dict[str, object] = {"depth": 0, "mine": False, "row": 0, "rows": 1, "column": 0}
    cell: dict[str, object] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        space, _, local = name.rpartition(" ")
        if space != _ODS_TABLE:
            if cell and local == "p":
                cell["text"] = str(cell.get("text", "")) + ("\n" if cell.get("paragraphs") else "")
                cell["paragraphs"] = True
            return
        if local == "table":
            state["depth"] = int(state["depth"]) + 1
            if state["depth"] == 1:
                state["mine"] = attrs.get(f"{_ODS_TABLE} name") == sheet
                state["row"] = 0
        elif not state["mine"] or state["depth"] != 1:
            return
        elif local == "table-row":
            state["first"] = int(state["row"]) + 1
            state["rows"] = _repeat(attrs, "number-rows-repeated")
            state["row"] = int(state["row"]) + int(state["rows"])
            state["column"] = 0
        elif local in ("table-cell", "covered-table-cell"):
            first = int(state["column"]) + 1
            count = _repeat(attrs, "number-columns-repeated")
            state["column"] = int(state["column"]) + count
            cell.clear()
            cell.update(
                column=first,
                count=count,
                formula=attrs.get(f"{_ODS_TABLE} formula"),
                typed=attrs.get(f"{_ODS_OFFICE} value-type"),
                error=attrs.get(f"{_ODS_CALCEXT} value-type") == "error",
                rows=_repeat(attrs, "number-rows-spanned"),
                columns=_repeat(attrs, "number-columns-spanned"),
            )

    def text(data: str) -> None:
        if cell:
            cell["text"] = str(cell.get("text", "")) + data

    def end(name: str) -> None:
        space, _, local = name.rpartition(" ")
        if space != _ODS_TABLE:
            return
        if local == "table":
            state["depth"] = int(state["depth"]) - 1
            if state["depth"] == 0:
                state["mine"] = False
        elif local in ("table-cell", "covered-table-cell") and cell:
            _ods_cell(dict(cell), int(state["first"]), int(state["rows"]), scan, limits)
            cell.clear()

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    _parse_part(parser, book, "content.xml", scan, limits)
    return scan


def _ods_cell(cell: dict, first_row: int, rows: int, scan: SheetScan, limits: Limits) -> None:
    """Record one (possibly repeated) cell of :func:`scan_ods_sheet`."""
    text = str(cell.get("text") or "").strip()
    formula = cell["formula"]
    if not (formula or cell["typed"] or text):
        return  # an empty cell: not part of the extent
    first, count = int(cell["column"]), int(cell["count"])
    last_row, last_column = first_row + rows - 1, first + count - 1
    scan.max_row, scan.max_column = max(scan.max_row, last_row), max(scan.max_column, last_column)
    if scan.max_row * scan.max_column > limits.max_cells:
        raise _TooLarge
    places = [(r, c) for r in range(first_row, last_row + 1) for c in range(first, last_column + 1)]
    if cell["error"] or (formula and _ERROR_TEXT.fullmatch(text)):
        scan.error_cells += [(r, c, text or "#?") for r, c in places]
    elif formula and not cell["typed"]:
        shown = formula.split(":", 1)[1] if formula[:3] in ("of:", "oooc") else formula
        scan.formulas_without_value += [(r, c, shown.lstrip("=")) for r, c in places]
    if cell["rows"] > 1 or cell["columns"] > 1:
        scan.merged += [
            (r, c, r + int(cell["rows"]) - 1, c + int(cell["columns"]) - 1) for r, c in places
        ]


def _split_ref(ref: str | None) -> tuple[int, int]:
    found = re.fullmatch(r"\s*([A-Za-z]*)0*([0-9]*)\s*", ref or "")
    if not found:
        return 0, 0
    letters, digits = found.groups()
    return (int(digits) if digits else 0), column_number(letters)


def _check_extent(book: Workbook, sheet: str, scan: SheetScan, limits: Limits, what: str) -> None:
    if scan.max_row * scan.max_column > limits.max_cells:
        raise too_many_cells(book.path, sheet, scan.max_row, scan.max_column, limits, what=what)


def check_sheet_extent(book: Workbook, sheet: str, limits: Limits) -> SheetScan:
    """Scan the sheet about to be read; return what a reader would not show: its formula
    cells without cached values, its cells holding an Excel error, its merged ranges.

    Raises when its XML or its extent (the grid a reader allocates) is beyond the limits.
    """
    if not book.sheet_parts and "content.xml" in book.entries:  # OpenDocument (.ods)
        found = scan_ods_sheet(book, sheet, limits)
        _check_extent(book, sheet, found, limits, "as far as the cells in its XML reach")
        for name in book.entries:
            if name != "content.xml":
                _count_expanded(book, name, limits)
        return found
    part = book.sheet_parts.get(sheet)
    parts = (
        [part]
        if part in book.entries
        else [n for n in book.entries if "/worksheets/" in n and n.endswith(".xml")]
    )
    found = SheetScan()
    for name in parts:
        scan = scan_sheet(book, name, limits)
        _check_extent(book, sheet, scan, limits, "as far as the cell references in its XML reach")
        if name == part or part is None:
            found.formulas_without_value += scan.formulas_without_value
            found.error_cells += scan.error_cells
            found.merged += scan.merged
    for name in book.entries:  # what else a reader inflates (shared strings, styles)
        if "/worksheets/" not in name:
            _count_expanded(book, name, limits)
    return found


def _count_expanded(book: Workbook, part: str, limits: Limits) -> None:
    """Inflate a part just to count it (its declared size may lie)."""
    info = book.entries[part]
    if info.compress_type == zipfile.ZIP_STORED or info.compress_size * 1032 <= (
        limits.max_expanded_bytes
    ):
        return  # deflate cannot expand more than 1032:1
    size = 0
    with book.path.open("rb") as handle:
        for chunk in _part_chunks(handle, info, book.path):
            size += len(chunk)
            if size > limits.max_expanded_bytes:
                raise expanded_too_large(book.path, part, size, limits)


def hidden_cell_problems(
    path: Path, sheet: str, scan: SheetScan, headers: dict[int, str], header_row: int
):  # noqa: ANN201 - a problems DataFrame
    """What a reader would show as blanks: formula cells without a cached value, cells
    holding an Excel error (#DIV/0!, #N/A ...), and merged ranges reaching below the
    header row (sheet row ``header_row``: merged titles above it are fine). One
    located problem each, in sheet order."""
    found = [(r, c, ("=" + f) if f else "(formula)", FORMULA_WITHOUT_VALUE, "formula_without_value")
             for r, c, f in scan.formulas_without_value]  # fmt: skip
    found += [(r, c, v, EXCEL_ERROR, "excel_error") for r, c, v in scan.error_cells]
    found += [
        (r1, c1, f"{_letters(c1, bare=True)}{r1}:{_letters(c2, bare=True)}{r2}", MERGED_CELLS,
         "merged_cells")
        for r1, c1, r2, c2 in scan.merged
        if r2 > header_row
    ]  # fmt: skip
    rows = [
        {
            "source_file": str(path),
            "sheet": sheet,
            "source_row": row or "",
            "column": headers.get(column - 1) or (_letters(column) if column else ""),
            "value": value,
            "expected": expected,
            "check": check,
        }
        for row, column, value, expected, check in sorted(found, key=lambda f: (f[0], f[1]))
    ]
    return make_problems(rows)


def _letters(column: int, *, bare: bool = False) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters if bare else f"column {letters}"


# ---- text files ---------------------------------------------------------------------


@dataclass
class TextScan:
    """What a streaming pass over a text table found."""

    encoding: str
    sep: str
    lines: int = 0
    separators: int = 0
    longest_line: int = 0
    apostrophes: bool = False
    bad_lines: list[int] = field(default_factory=list)  # not UTF-8 (the first 1,000)
    bad_count: int = 0  # lines that are not UTF-8 (estimated once the file is GBK)
    utf8_lines: int = 0  # lines with non-ASCII text that decode as UTF-8
    sep_line: bool = False  # the first line is Excel's "sep=;" directive

    @property
    def max_cells(self) -> int:
        """An upper bound on the cells a parser makes (every separator opens one)."""
        return self.separators + self.lines + 1


_SEP_LINE = re.compile(rb"(?:\xef\xbb\xbf)?sep=([,;\t|])\r?", re.IGNORECASE)


def scan_text(path: Path, sep: str | None, limits: Limits) -> TextScan:
    """Decide encoding and separator; count lines, separators and the longest line.

    ``sep`` None: sniffed from the first line (tab when it has tabs and no commas). A
    first line ``sep=;`` (Excel's directive) names the separator, whatever ``sep`` says.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text": UTF-16, tabs
        return _scan_utf16(path, sep, head)
    first = head.split(b"\n", 1)[0]
    directive = _SEP_LINE.fullmatch(first)  # Excel's "sep=;" first line names the separator
    if directive:  # as Excel reads it, whatever the suffix suggests
        sep = directive.group(1).decode("ascii")
    elif sep is None:
        sep = "\t" if b"\t" in first and b"," not in first else ","
    scan = TextScan("utf-8-sig", sep, sep_line=directive is not None)
    separator = sep.encode("ascii")
    carry = b""
    with path.open("rb") as handle:
        while chunk := handle.read(4 * _CHUNK):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            _scan_lines(data[:cut], scan, separator, limits)
            carry = data[cut:]
    if carry:
        _scan_lines(carry, scan, separator, limits)
    # UTF-8 (declared by a BOM, or most non-ASCII lines) with some lines in another
    # encoding is reported line by line; else it is GBK/GB18030 throughout, as Excel
    # saves "CSV" in China (a short GBK line can happen to be valid UTF-8)
    if scan.bad_count and not (
        head.startswith(codecs.BOM_UTF8) or scan.utf8_lines >= scan.bad_count
    ):
        scan.encoding = "gb18030"
        scan.bad_lines = []
    return scan


def _scan_lines(segment: bytes, scan: TextScan, separator: bytes, limits: Limits) -> None:
    """Count one run of whole lines and classify its encoding."""
    first_line = scan.lines + 1
    scan.lines += segment.count(b"\n") + (0 if segment.endswith(b"\n") else 1)
    scan.separators += segment.count(separator)
    scan.apostrophes = scan.apostrophes or b"'" in segment
    if len(segment) > limits.max_cell_chars:
        scan.longest_line = max(scan.longest_line, max(map(len, segment.split(b"\n"))))
    else:
        scan.longest_line = max(scan.longest_line, len(segment))
    if segment.isascii():
        return
    try:
        segment.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        scan.utf8_lines += segment.count(b"\n") + 1
        return
    if scan.bad_count >= _GBK_EVIDENCE and not scan.utf8_lines:
        scan.bad_count += segment.count(b"\n") + 1  # GBK so far: no need to look closer
        return
    lines = segment.split(b"\n")
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            scan.bad_count += 1
            if len(scan.bad_lines) < _GBK_EVIDENCE:
                scan.bad_lines.append(first_line + i)
            elif not scan.utf8_lines:  # GBK so far: the rest counts as GBK too
                scan.bad_count += len(lines) - i - 1
                return
        else:
            scan.utf8_lines += 1


def _scan_utf16(path: Path, sep: str | None, head: bytes) -> TextScan:
    text_head = head.decode("utf-16", "replace")
    first = text_head.split("\n", 1)[0]
    if sep is None:
        sep = "\t" if "\t" in first else ","
    scan = TextScan("utf-16", sep)
    with path.open(encoding="utf-16", newline="") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                scan.lines += chunk.count("\n")
                scan.separators += chunk.count(sep)
                scan.apostrophes = scan.apostrophes or "'" in chunk
                scan.longest_line = max(scan.longest_line, max(map(len, chunk.split("\n"))))
        except UnicodeDecodeError as exc:
            msg = f"{path}, after line {scan.lines}: not valid UTF-16 text ({exc.reason})"
            raise located_error(
                msg,
                source_file=path,
                row=scan.lines + 1,
                check="unknown_encoding",
                expected="text in one encoding (save as CSV UTF-8)",
            ) from None
    return scan


def mixed_encoding_problems(path: Path, scan: TextScan):  # noqa: ANN201 - problems frame
    """One located problem per line that is not UTF-8 in an otherwise UTF-8 file."""
    expected = (
        "UTF-8 text like the rest of the file (this line looks like GBK/GB18030; "
        "save the whole file as CSV UTF-8)"
    )
    return make_problems(
        {
            "source_file": str(path),
            "source_row": line,
            "value": "",
            "expected": expected,
            "check": "mixed_encoding",
        }
        for line in scan.bad_lines
    )


__all__ = [
    "FORMULA_WITHOUT_VALUE",
    "LIMIT_VARIABLES",
    "Limits",
    "TextScan",
    "check_input_file",
    "check_sheet_extent",
    "check_workbook",
    "hidden_cell_problems",
    "input_limits",
    "mixed_encoding_problems",
    "scan_text",
    "too_many_cells",
]
