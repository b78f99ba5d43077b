"""The identity map of a session: one object per ``(sync_id, collection_id, upstream_id)``."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sequin_orm.model import Model

__all__ = ["IdentityMap"]


class IdentityMap:
    """Tracked persistent objects by ``(sync_id, collection_id, upstream_id)``.

    Nested by ``(sync_id, collection_id)`` so that each object costs one dict entry.
    """

    def __init__(self) -> None:
        self._by_collection: dict[tuple[str, str], dict[str, Model]] = {}

    def get(self, sync_id: str, collection_id: str, upstream_id: str) -> Model | None:
        return self._by_collection.get((sync_id, collection_id), {}).get(upstream_id)

    def members(self, sync_id: str, collection_id: str) -> dict[str, Model]:
        """The tracked objects of one sync and collection by upstream id (the dict itself:
        a caller that verified an id is not taken may add the object under it)."""
        return self._by_collection.setdefault((sync_id, collection_id), {})

    def get_like(self, obj: Model) -> Model | None:
        """The tracked object with ``obj``'s identity, if any."""
        upstream_id, sync_id = obj._upstream_id, obj._sync_id
        if upstream_id is None or sync_id is None:
            return None
        return self.get(sync_id, obj.collection_id, upstream_id)

    def add(self, obj: Model) -> Model | None:
        """Track ``obj``; returns the object tracked under its identity (None: no identity)."""
        upstream_id, sync_id = obj._upstream_id, obj._sync_id
        if upstream_id is None or sync_id is None:
            return obj
        key = (sync_id, obj.collection_id)
        members = self._by_collection.get(key)
        if members is None:
            members = self._by_collection[key] = {}
        return members.setdefault(upstream_id, obj)

    def discard(self, obj: Model) -> None:
        """Stop tracking ``obj`` (nothing happens when another object has its identity)."""
        upstream_id, sync_id = obj._upstream_id, obj._sync_id
        if upstream_id is None or sync_id is None:
            return
        members = self._by_collection.get((sync_id, obj.collection_id))
        if members is not None and members.get(upstream_id) is obj:
            del members[upstream_id]

    def __len__(self) -> int:
        return sum(len(members) for members in self._by_collection.values())

    def __iter__(self) -> Iterator[Model]:
        return chain.from_iterable(members.values() for members in self._by_collection.values())
