"""Typed errors that tell the user which file, row and column is wrong and what to do next."""

from __future__ import annotations

from pathlib import Path


class CostrailError(Exception):
    """Every error costrail raises on purpose; the CLI prints these without a traceback."""

    exit_code = 1


class InputError(CostrailError):
    """A source file cannot be loaded as it is.

    `row` is the 1-based data row (the header is not counted); `line` in the message adds the
    header so the user can jump to it in an editor. Nothing has been written when this is raised.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        if self.hint:
            text += f" — {self.hint}"
        return text


class UnknownFormatError(InputError):
    """No reader recognised the file's content."""


class ReconciliationError(CostrailError):
    """Loaded totals differ from the source totals by a cent or more; the load rolled back."""

    exit_code = 4


class WarehouseError(CostrailError):
    """The warehouse URL or its contents are unusable."""

    exit_code = 5


class ConfigError(CostrailError):
    """A command-line option or configuration value is invalid."""

    exit_code = 2


class ExportError(CostrailError):
    """The written file does not match the warehouse; it was removed and nothing was replaced."""

    exit_code = 6
