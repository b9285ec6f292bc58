"""The persistent cache (costperf.io.cache) and the font subsets kept in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from costperf.io import cache
from costperf.report import webfont


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(folder))
    return folder


def _maker(data: bytes, calls: list[int]):
    def make() -> bytes:
        calls.append(1)
        return data

    return make


def test_an_entry_is_made_once_then_read(cache_folder: Path) -> None:
    calls: list[int] = []
    key = cache.cache_key(["a", b"b"])
    assert cache.cached_bytes("k", key, _maker(b"data", calls)) == b"data"
    assert cache.cached_bytes("k", key, _maker(b"other", calls)) == b"data"
    assert calls == [1]
    assert [p.name for p in (cache_folder / "k").iterdir()] == [key]  # no temporary left


def test_keys_do_not_collide_by_concatenation() -> None:
    assert cache.cache_key(["ab", "c"]) != cache.cache_key(["a", "bc"])


def test_an_entry_failing_the_check_is_made_again(cache_folder: Path) -> None:
    calls: list[int] = []
    key = cache.cache_key(["x"])
    (cache_folder / "k").mkdir(parents=True)
    (cache_folder / "k" / key).write_bytes(b"trunc")
    good = lambda data: data == b"whole"  # noqa: E731
    assert cache.cached_bytes("k", key, _maker(b"whole", calls), valid=good) == b"whole"
    assert (cache_folder / "k" / key).read_bytes() == b"whole"
    assert calls == [1]


def test_a_folder_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(cache.ENV, str(blocker / "cache"))
    calls: list[int] = []
    for _ in range(2):
        assert cache.cached_bytes("k", "key", _maker(b"data", calls)) == b"data"
    assert calls == [1, 1]


def test_an_empty_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV, "")
    assert cache.cache_dir() is None
    calls: list[int] = []
    for _ in range(2):
        cache.cached_bytes("k", "key", _maker(b"data", calls))
    assert calls == [1, 1]


def test_the_default_folder_is_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    monkeypatch.setattr(cache.sys, "platform", "linux")
    assert cache.cache_dir() == Path("/somewhere/cache/costperf")


def test_a_font_subset_comes_from_the_cache_the_second_time(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chars = frozenset("道路环卫保洁 abc")
    webfont.subset_font.cache_clear()
    first = webfont.subset_font(chars)
    assert webfont._is_woff(first)
    assert len(list((cache_folder / "font-subsets").glob("*.woff"))) == 1

    def no_subsetting(*_args: object) -> bytes:
        raise AssertionError("subset made again")

    webfont.subset_font.cache_clear()  # a new process: only the disk cache remains
    monkeypatch.setattr(webfont, "make_subset", no_subsetting)
    assert webfont.subset_font(chars) == first
    webfont.subset_font.cache_clear()


def test_a_broken_font_entry_is_made_again(cache_folder: Path) -> None:
    chars = frozenset("审核 xyz")
    webfont.subset_font.cache_clear()
    first = webfont.subset_font(chars)
    (entry,) = (cache_folder / "font-subsets").glob("*.woff")
    entry.write_bytes(first[: len(first) // 2])  # a half-written file
    webfont.subset_font.cache_clear()
    again = webfont.subset_font(chars)
    assert webfont._is_woff(again) and len(again) == len(first)
    assert entry.read_bytes() == again
    webfont.subset_font.cache_clear()


def test_a_subset_does_not_depend_on_when_it_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flaky worker-report test, explained: fontTools stamped each subset with the
    time of saving, so two processes a second apart embedded different fonts."""
    import time

    chars = frozenset("道路环卫保洁 abc")
    first = webfont.make_subset(webfont.font_path(), chars)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 86_400 * 400)  # a year later
    assert webfont.make_subset(webfont.font_path(), chars) == first
