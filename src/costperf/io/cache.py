"""A small persistent cache of derived bytes (font subsets) in the user's cache folder.

Entries are files named by a content hash of everything they are made from, written
atomically (a temporary file beside the entry, then a rename), so a reader sees a whole
entry or none. The cache only saves time: a folder that cannot be made, read or written
is skipped without a word, and an entry that fails its caller's check is made afresh.

The folder is ``$COSTPERF_CACHE_DIR`` if set (an empty value turns the cache off), else
the platform's user cache folder: ``$XDG_CACHE_HOME/costperf`` or
``~/.cache/costperf`` (Linux), ``~/Library/Caches/costperf`` (macOS),
``%LOCALAPPDATA%\\costperf\\Cache`` (Windows).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

ENV = "COSTPERF_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder (not created here), or None when ``$COSTPERF_CACHE_DIR`` is empty."""
    given = os.environ.get(ENV)
    if given is not None:
        return Path(given).expanduser() if given.strip() else None
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "costperf" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "costperf"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / "costperf"


def cache_key(parts: Iterable[bytes | str]) -> str:
    """SHA-256 (hex) of the parts, each length-prefixed so no two lists collide."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's content."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def cached_bytes(
    kind: str,
    key: str,
    make: Callable[[], bytes],
    *,
    valid: Callable[[bytes], bool] = lambda _data: True,
    suffix: str = "",
) -> bytes:
    """The entry ``kind/key`` from the cache if it passes ``valid``; else ``make()``,
    stored for next time (when the folder can be written)."""
    folder = cache_dir()
    entry = folder / kind / f"{key}{suffix}" if folder is not None else None
    if entry is not None:
        try:
            data = entry.read_bytes()
        except OSError:
            pass
        else:
            if valid(data):
                return data
    data = make()
    if entry is not None:
        _store(entry, data)
    return data


def _store(entry: Path, data: bytes) -> None:
    """Write ``entry`` atomically; any OS error (read-only, full, no folder) is ignored."""
    tmp = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.replace(entry)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
