"""Provider names: the short `x_Provider` key used in load keys and reports."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

#: Lower-cased ProviderName (or a prefix of it) → x_Provider.
PROVIDER_KEYS: dict[str, str] = {
    "aws": "aws",
    "amazon web services": "aws",
    "amazon": "aws",
    "microsoft": "azure",
    "azure": "azure",
    "microsoft azure": "azure",
    "google cloud": "gcp",
    "google": "gcp",
    "gcp": "gcp",
    "oracle": "oci",
    "oracle cloud infrastructure": "oci",
    "oci": "oci",
}


def provider_key(provider_name: ir.Value) -> ir.StringValue:
    """FOCUS ProviderName → x_Provider (aws, azure, gcp, oci, else the lower-cased name)."""
    lowered = provider_name.cast("string").strip().lower()  # type: ignore[attr-defined]
    cases = [(lowered == name, ibis.literal(key)) for name, key in PROVIDER_KEYS.items()]
    return ibis.cases(*cases, else_=ibis.coalesce(lowered, ibis.literal("unknown")))  # type: ignore[no-any-return]
