"""What both AWS readers share: checks, mapping and totals over rows under CUR 2.0 names."""

from __future__ import annotations

from abc import abstractmethod

import ibis.expr.types as ir

from costrail.sources.aws import checks, line_items
from costrail.sources.aws.line_items import AwsNative
from costrail.sources.aws.mapping import focus_columns
from costrail.sources.base import LoadWarnings, MappingContext, Reader, SourceFile


class AwsReader(Reader):
    """An AWS CUR layout: a subclass only says how its columns become CUR 2.0 names (`prepare`).

    Everything after that is shared, so the two AWS readers cannot drift apart.
    """

    @abstractmethod
    def prepare(self, native: ir.Table, engine: str | None = None) -> AwsNative:
        """The native rows under CUR 2.0 names, with their tag and product maps.

        `engine` is needed only to build the maps; checks and totals call without it.
        """

    def check(self, native: ir.Table, files: list[SourceFile], warnings: LoadWarnings) -> None:
        checks.check(self.prepare(native), warnings)

    def to_focus(self, native: ir.Table, context: MappingContext) -> ir.Table:
        rows = self.prepare(native, context.engine)
        return rows.table.select(**focus_columns(rows))

    def source_totals(self, native: ir.Table) -> ir.Table:
        return line_items.source_totals(self.prepare(native))
