"""Errors a user can cause. Each names where the problem is: file, layer and field."""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with control characters (newlines from a file's names or keys) written as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class CostlabError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


class SpecError(CostlabError):
    """A problem in a model description, located by source file, layer name and field."""

    def __init__(self, message: str, *, source: str = "", layer: str = "", field: str = "") -> None:
        self.message = message
        self.source = source
        self.layer = layer
        self.field = field
        super().__init__(self.format())

    def format(self) -> str:
        parts = [self.source or "<spec>"]
        if self.layer:
            parts.append(f"layer '{self.layer}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return one_line(": ".join(parts) + ": " + self.message)

    def located(self, *, source: str = "", layer: str = "") -> "SpecError":
        """The same error with missing location parts filled in."""
        return SpecError(
            self.message,
            source=self.source or source,
            layer=self.layer or layer,
            field=self.field,
        )


class FieldError(ValueError):
    """Raised by formulas and field parsers: which field is wrong and why (no location yet)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
