"""The adapters package's single exception root, so callers catch one thing."""


class AdapterError(Exception):
    """Any user-facing failure inside the ML core (bad input, mismatched base, unknown method)."""


class BaseMismatchError(AdapterError):
    """An adapter was pinned to other base weights than the ones it is being loaded on."""
