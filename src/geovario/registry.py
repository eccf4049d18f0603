"""One way to look things up by name, with ``list_*()`` beside each registry.

Backbones, datasets, galleries, losses, variogram families and ablation variants each keep
a :class:`Registry`.

A name ending in ``":"`` is a prefix that takes a spec, written after it
(``clip:openai/clip-vit-large-patch14``, ``store:stores/train``); the bare prefix
(``clip``) looks up the entry with no spec. An unknown name is a one-line error that
lists the choices.
"""

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from geovario.errors import GeovarioError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind, in registration order; reads like a read-only dict."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, tuple[T, str]] = {}

    def register(self, name: str, *, spec: str = "<spec>") -> Callable[[T], T]:
        """Decorator (or call ``register(name)(entry)``) adding ``entry`` under ``name``.

        Args:
            name: the name, or a prefix ending in ``":"`` that takes a spec.
            spec: how to write the spec in listings and errors, e.g. ``"<hub id or path>"``.
        """

        def add(entry: T) -> T:
            if name in self._entries:
                raise GeovarioError(f"{self.kind}: {name!r} is already registered")
            self._entries[name] = (entry, spec)
            return entry

        return add

    def names(self) -> list[str]:
        """What :meth:`lookup` accepts, in registration order (``clip:<hub id or path>``)."""
        return [name + spec if name.endswith(":") else name
                for name, (_, spec) in self._entries.items()]

    def lookup(self, name: str) -> tuple[T, str | None]:
        """The entry for ``name`` and its spec (None for an exact name or a bare prefix).

        Raises:
            GeovarioError: "unknown <kind> 'x' (choose from a, b, ...)".
        """
        if name in self._entries and not name.endswith(":"):
            return self._entries[name][0], None
        for prefix, (entry, _) in self._entries.items():
            if prefix.endswith(":") and (name == prefix[:-1] or name.startswith(prefix)):
                return entry, name[len(prefix):] or None
        raise GeovarioError(f"unknown {self.kind} {name!r} (choose from "
                            f"{', '.join(self.names())})")

    def __getitem__(self, name: str) -> T:
        return self.lookup(name)[0]

    def __contains__(self, name: object) -> bool:
        try:
            self.lookup(str(name))
        except GeovarioError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in registration order."""
        return [(name, entry) for name, (entry, _) in self._entries.items()]
