"""SQL persistence: table models, the engine wrapper and the schema migration runner."""

from .engine import Database
from .migrate import upgrade

__all__ = ["Database", "upgrade"]
