"""The pin: which base weights an adapter belongs to, as it travels in every card.

A value of its own so that everything that reads or compares pins (loading, finding a base by its
fingerprint, the resolver's remote sources) can name it without importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AdapterError

__all__ = ["BasePin"]


@dataclass(frozen=True)
class BasePin:
    """Which base weights an adapter belongs to; the fingerprint is what is compared."""

    id: str
    revision: str | None
    fingerprint: str

    def to_dict(self) -> dict:
        return {"id": self.id, "revision": self.revision, "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, data: dict) -> BasePin:
        if not data or not data.get("fingerprint"):
            raise AdapterError("a base pin needs at least a fingerprint")
        return cls(id=str(data.get("id") or ""), revision=data.get("revision"), fingerprint=str(data["fingerprint"]))
