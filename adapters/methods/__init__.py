"""Built-in adapter methods; each is a ``MethodSpec`` exposed through entry points."""

__all__: list[str] = []
