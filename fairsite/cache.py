"""A small per-process cache of values keyed by (key, version): whoever changes what a value
depends on moves its version on (in the same transaction), so every process sees the change at
its next lookup without being told. Entries are kept per language (fairsite/i18n.py): what is
cached is mostly rendered HTML, and an English reader must never get the Chinese copy."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fairsite.i18n import current_locale


class VersionedCache:
    """An LRU of values keyed by (key, version). A lookup with another version is a miss; the
    stale entry is replaced by the next put."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, version, locale: str | None = None):
        """`locale`: the language's key, for a caller outside a request (else the request's)."""
        item = self._items.get((locale or current_locale(), key))
        if item is None or item[0] != version:
            return None
        return item[1]

    def put(self, key, version, value) -> None:
        key = (current_locale(), key)
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
