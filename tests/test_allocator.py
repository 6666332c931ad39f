"""The allocator's thresholds: set once on glibc, left alone when the user set them."""

from __future__ import annotations

import platform
from collections.abc import Iterator

import pytest

from nj_audit.allocator import keep_memory_on_the_heap


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    keep_memory_on_the_heap.cache_clear()
    yield
    keep_memory_on_the_heap.cache_clear()


def test_set_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    assert keep_memory_on_the_heap() is (platform.libc_ver()[0] == "glibc")


@pytest.mark.parametrize("name", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_a_users_own_setting_is_kept(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "131072")
    assert keep_memory_on_the_heap() is False
