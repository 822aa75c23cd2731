"""Azure `Tags` text → a map: EA writes the members without braces, MCA a JSON object."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from costrail.schema.costs import TAGS
from costrail.sources.expr import blank_to_null, json_readable, json_tags


def tags_json(value: ir.Value) -> ir.StringValue:
    """EA writes tags without braces (`"env": "prod","team": "ml"`); MCA writes a JSON object."""
    text = blank_to_null(value.cast("string"))
    return ibis.ifelse(text.startswith("{"), text, "{" + text + "}")


def tags_readable(value: ir.Value, engine: str) -> ir.BooleanValue:
    """Whether the tags text is a JSON object once braced (else it is left out, with a warning)."""
    return json_readable(tags_json(value), engine)


def tags_map(value: ir.Value, engine: str) -> ir.Value:
    """Tags as a map; text that is not JSON gives no tags (reported as a counted warning)."""
    text = tags_json(value)
    readable = tags_readable(value, engine)
    return ibis.cases((readable, json_tags(text, engine)), else_=ibis.null(TAGS))
