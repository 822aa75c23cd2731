"""LLM token prices: LiteLLM's community price map (a dated snapshot) plus costrail.yaml overrides.

Prices are exact `Decimal`s parsed from the JSON text (never through a float), looked up
tolerantly (provider prefixes, dated snapshots, Bedrock and Vertex ids, Azure deployment aliases)
and never silently $0: an unknown model raises `UnknownModelError`, which callers count and report.
See docs/llm.md for the pricing rules and their fallbacks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from costrail.config import Config, Section, register_section
from costrail.errors import CostrailError, InputError
from costrail.llm.usage import TokenUsage

#: date the packaged snapshot was copied (see data/llm/SOURCES.md)
SNAPSHOT_DATE = "2026-11-23"
SNAPSHOT_FILE = "model_prices_and_context_window.json"
#: where `costrail prices update` installs a newer snapshot
INSTALLED_NAME = "llm_prices.json"
DATA_DIR_ENV = "COSTRAIL_DATA_DIR"

_ZERO = Decimal(0)
_ONE_HOUR_WRITE_MULTIPLIER = Decimal(2)  # Anthropic: 1-hour cache write = 2x base input
_ANTHROPIC_BATCH_RATIO = Decimal("0.5")  # Anthropic Message Batches: 50 % off every price


class UnknownModelError(CostrailError):
    """No price for this model: callers record the request as unpriced, never as $0."""

    exit_code = 3


def user_data_dir() -> Path:
    """`$COSTRAIL_DATA_DIR`, else `$XDG_DATA_HOME/costrail`, else `~/.local/share/costrail`."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "costrail"


def installed_snapshot_path() -> Path:
    return user_data_dir() / INSTALLED_NAME


# --- configuration ---------------------------------------------------------------------------


class PriceOverride(BaseModel):
    """A negotiated price: a discount on the catalog price, explicit per-token prices, or both
    (explicit prices win for their field; the discount applies to the rest)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    provider: str | None = None
    discount_pct: Decimal | None = None
    input_usd_per_token: Decimal | None = None
    output_usd_per_token: Decimal | None = None
    cached_input_usd_per_token: Decimal | None = None
    cache_write_usd_per_token: Decimal | None = None
    cache_write_1h_usd_per_token: Decimal | None = None
    batch_input_usd_per_token: Decimal | None = None
    batch_output_usd_per_token: Decimal | None = None


@register_section("llm_prices")
class LlmPricesSection(Section):
    """`llm_prices:` in costrail.yaml."""

    #: a price-map file used instead of the installed / packaged snapshot (relative paths are
    #: relative to costrail.yaml)
    catalog: Path | None = None
    #: model aliases: "my-deployment" or "azure.ai.openai/my-deployment" → a catalog model name
    aliases: dict[str, str] = Field(default_factory=dict)
    overrides: list[PriceOverride] = Field(default_factory=list)


# --- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRates:
    """USD per token for each kind of token, for one pricing tier (already batch-adjusted)."""

    input: Decimal
    cached_input: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    output: Decimal

    def cost_usd(self, usage: TokenUsage) -> Decimal:
        return (
            usage.uncached_input_tokens * self.input
            + usage.cached_input_tokens * self.cached_input
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_write_1h_tokens * self.cache_write_1h
            + usage.output_tokens * self.output
        )


@dataclass(frozen=True)
class ModelPrice:
    """One model's prices in USD per token (None where the catalog has no such price)."""

    provider: str
    model: str
    input_usd_per_token: Decimal
    output_usd_per_token: Decimal
    cached_input_usd_per_token: Decimal | None = None
    cache_write_usd_per_token: Decimal | None = None
    cache_write_1h_usd_per_token: Decimal | None = None
    batch_input_usd_per_token: Decimal | None = None
    batch_output_usd_per_token: Decimal | None = None
    long_context_threshold_tokens: int | None = None
    long_context_input_usd_per_token: Decimal | None = None
    long_context_output_usd_per_token: Decimal | None = None
    long_context_cached_input_usd_per_token: Decimal | None = None
    long_context_cache_write_usd_per_token: Decimal | None = None
    long_context_cache_write_1h_usd_per_token: Decimal | None = None
    source: str = ""

    def is_long_context(self, input_tokens: int) -> bool:
        threshold = self.long_context_threshold_tokens
        return threshold is not None and input_tokens > threshold

    def rates(self, input_tokens: int, *, batch: bool = False) -> TierRates:
        """Rates for a request of `input_tokens` (total input), with the documented fallbacks."""
        tier = self._long_rates() if self.is_long_context(input_tokens) else self._base_rates()
        return self._batch_adjusted(tier) if batch else tier

    def cost_usd(self, usage: TokenUsage, *, batch: bool = False) -> Decimal:
        return self.rates(usage.input_tokens, batch=batch).cost_usd(usage)

    def _base_rates(self) -> TierRates:
        base = self.input_usd_per_token
        write = _first(self.cache_write_usd_per_token, base)
        return TierRates(
            input=base,
            cached_input=_first(self.cached_input_usd_per_token, base),
            cache_write=write,
            cache_write_1h=_first(self.cache_write_1h_usd_per_token, self._one_hour(base, write)),
            output=self.output_usd_per_token,
        )

    def _long_rates(self) -> TierRates:
        base = self._base_rates()
        long_input = _first(self.long_context_input_usd_per_token, base.input)
        write = _first(self.long_context_cache_write_usd_per_token, base.cache_write)
        return TierRates(
            input=long_input,
            cached_input=_first(self.long_context_cached_input_usd_per_token, base.cached_input),
            cache_write=write,
            cache_write_1h=_first(
                self.long_context_cache_write_1h_usd_per_token,
                self._one_hour(long_input, write)
                if self.cache_write_1h_usd_per_token is None
                else base.cache_write_1h,
            ),
            output=_first(self.long_context_output_usd_per_token, base.output),
        )

    def _one_hour(self, base_input: Decimal, write_5m: Decimal) -> Decimal:
        """No 1-hour price in the catalog: Anthropic charges 2x base input; others the 5m rate."""
        if (
            self.provider in {"anthropic", "aws.bedrock", "gcp.vertex_ai"}
            and "claude" in self.model
        ):
            return base_input * _ONE_HOUR_WRITE_MULTIPLIER
        return write_5m

    def _batch_adjusted(self, tier: TierRates) -> TierRates:
        """Batch prices where the catalog has them; cache rates scale by the same input ratio.

        Without a batch price: Anthropic's Message Batches API is documented as 50 % off every
        token price, so that applies to Anthropic models; for others the standard rates apply
        (an upper bound, never an invented discount).
        """
        input_ratio = _ratio(self.batch_input_usd_per_token, self.input_usd_per_token)
        output_ratio = _ratio(self.batch_output_usd_per_token, self.output_usd_per_token)
        if self.provider == "anthropic" and self.batch_input_usd_per_token is None:
            input_ratio = output_ratio = _ANTHROPIC_BATCH_RATIO
        return TierRates(
            input=tier.input * input_ratio,
            cached_input=tier.cached_input * input_ratio,
            cache_write=tier.cache_write * input_ratio,
            cache_write_1h=tier.cache_write_1h * input_ratio,
            output=tier.output * output_ratio,
        )

    def worst_case_usd(self, *, input_tokens: int, max_output_tokens: int) -> Decimal:
        """Upper bound for reserve-then-settle: every input token at the dearest input-side rate
        of its tier (a cache write can cost more than plain input), every output token billed."""
        tier = self.rates(input_tokens)
        input_rate = max(tier.input, tier.cached_input, tier.cache_write, tier.cache_write_1h)
        return input_tokens * input_rate + max_output_tokens * tier.output


def _first(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value


def _ratio(discounted: Decimal | None, list_price: Decimal) -> Decimal:
    if discounted is None or list_price == _ZERO:
        return Decimal(1)
    return discounted / list_price


# --- provider names --------------------------------------------------------------------------

#: LiteLLM `litellm_provider` / common spellings → the `gen_ai.provider.name` family
_FAMILY = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "google": "gcp.gemini",
    "gcp.gemini": "gcp.gemini",
    "gcp.vertex_ai": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "aws.bedrock": "aws.bedrock",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure.ai.openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "azure.ai.inference": "azure.ai.inference",
    "mistral": "mistral_ai",
    "mistral_ai": "mistral_ai",
    "xai": "x_ai",
    "x_ai": "x_ai",
    "cohere_chat": "cohere",
}

#: key prefixes the price map uses for a family's entries
_KEY_PREFIXES = {
    "openai": ("openai/",),
    "anthropic": ("anthropic/",),
    "gcp.gemini": ("gemini/",),
    "gcp.vertex_ai": ("vertex_ai/",),
    "aws.bedrock": ("bedrock/",),
    "azure.ai.openai": ("azure/",),
    "azure.ai.inference": ("azure_ai/",),
    "mistral_ai": ("mistral/",),
    "x_ai": ("xai/",),
}

_BEDROCK_ID = re.compile(
    r"^(?:(?:us|eu|apac|au|jp|ca|us-gov|global)\.)?"
    r"(?P<vendor>anthropic|meta|amazon|mistral|cohere|ai21|deepseek|qwen|openai|writer)\."
    r"(?P<model>.+?)(?:-v\d+(?::\d+)?)?$"
)
_DATE_SUFFIX = re.compile(r"(?:-|@)(?:\d{4}-\d{2}-\d{2}|\d{8})$")
_LONG_FIELD = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
    r"cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr)"
    r"_above_(\d+)k_tokens$"
)


def provider_family(provider: str | None) -> str | None:
    """The `gen_ai.provider.name` spelling of a provider name (LiteLLM's or OTel's)."""
    if provider is None or not provider.strip():
        return None
    name = provider.strip().lower()
    if name.startswith("vertex_ai"):
        return "gcp.vertex_ai"
    return _FAMILY.get(name, name)


def _name_variants(model: str) -> Iterator[str]:
    """The model name, then ever more normalised spellings of it (deduplicated by the caller)."""
    name = model.strip().lower()
    yield name
    if "/" in name:
        name = name.rsplit("/", 1)[1]
        yield name
    bedrock = _BEDROCK_ID.match(name)
    if bedrock:
        yield f"{bedrock['vendor']}.{bedrock['model']}"
        name = bedrock["model"]
        yield name
    if "@" in name:
        name = name.replace("@", "-")
        yield name
    undated = _DATE_SUFFIX.sub("", name)
    if undated != name:
        yield undated
        yield f"{undated}-latest"


# --- the catalog -----------------------------------------------------------------------------


@dataclass
class LlmPrices:
    """The price map (by lower-cased key) plus overrides and aliases from costrail.yaml."""

    entries: dict[str, Mapping[str, Any]]
    source: str
    aliases: dict[str, str] = field(default_factory=dict)
    overrides: list[PriceOverride] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None = None, config: Config | None = None) -> LlmPrices:
        """`path`, else `llm_prices.catalog`, else the installed snapshot, else the packaged one."""
        section = config.section("llm_prices", LlmPricesSection) if config else LlmPricesSection()
        chosen = path or section.catalog
        if path is None and chosen is not None and config is not None and config.path:
            chosen = config.path.parent / chosen  # relative to costrail.yaml (absolute stays)
        if chosen is None and installed_snapshot_path().is_file():
            chosen = installed_snapshot_path()
        if chosen is None:
            entries = _packaged_entries()
            source = f"litellm snapshot {SNAPSHOT_DATE}"
        else:
            stat = Path(chosen).stat()
            entries = _file_entries(str(chosen), stat.st_mtime_ns, stat.st_size)
            source = _file_source(Path(chosen))
        aliases = {key.strip().lower(): value for key, value in section.aliases.items()}
        return cls(entries=entries, source=source, aliases=aliases, overrides=section.overrides)

    def lookup(self, provider: str | None, model: str) -> ModelPrice:
        """The price for `model`, tolerant of how sources spell it; `UnknownModelError` if none."""
        family = provider_family(provider)
        model = self._alias(family, model)
        if family is None and "/" in model:
            family = provider_family(model.split("/", 1)[0])
        override = self._override(family, model)
        found = self._find(family, model)
        if found is None:
            if override is not None and _is_complete(override):
                return _from_override(family or "unknown", model, override)
            raise UnknownModelError(
                f"no price for model {model!r}"
                + (f" of provider {provider!r}" if provider else "")
                + " — add it under `llm_prices.overrides` in costrail.yaml, or install a newer"
                " price map with `costrail prices update FILE`"
            )
        key, entry = found
        price = _price_from_entry(key, entry, self.source)
        if override is None:
            override = self._override(price.provider, key)
        return price if override is None else _apply_override(price, override)

    def cost_usd(
        self, provider: str | None, model: str, usage: TokenUsage, *, batch: bool = False
    ) -> Decimal:
        return self.lookup(provider, model).cost_usd(usage, batch=batch)

    def worst_case_usd(
        self, provider: str | None, model: str, *, input_tokens: int, max_output_tokens: int
    ) -> Decimal:
        return self.lookup(provider, model).worst_case_usd(
            input_tokens=input_tokens, max_output_tokens=max_output_tokens
        )

    def _alias(self, family: str | None, model: str) -> str:
        lowered = model.strip().lower()
        for key in ((f"{family}/{lowered}",) if family else ()) + (lowered,):
            if key in self.aliases:
                return self.aliases[key]
        return model

    def _find(self, family: str | None, model: str) -> tuple[str, Mapping[str, Any]] | None:
        keys: list[str] = []
        prefixes = _KEY_PREFIXES.get(family or "", (f"{family}/",) if family else ())
        for name in _name_variants(model):
            keys.extend(prefix + name for prefix in prefixes)
            keys.append(name)
        ordered = list(dict.fromkeys(keys))
        # entries of the caller's provider first, then any provider's list price for the model
        for same_family_only in (True, False) if family else (False,):
            for key in ordered:
                entry = self.entries.get(key)
                if entry is None or not _is_token_priced(entry):
                    continue
                if same_family_only and provider_family(entry.get("litellm_provider")) != family:
                    continue
                return key, entry
        return None

    def _override(self, family: str | None, model: str) -> PriceOverride | None:
        lowered = model.strip().lower()
        for override in self.overrides:
            if override.model.strip().lower() != lowered:
                continue
            if override.provider is not None and provider_family(override.provider) != family:
                continue
            return override
        return None


def _is_token_priced(entry: Mapping[str, Any]) -> bool:
    return isinstance(entry.get("input_cost_per_token"), Decimal) and isinstance(
        entry.get("output_cost_per_token", _ZERO), Decimal
    )


def _dec(entry: Mapping[str, Any], name: str) -> Decimal | None:
    value = entry.get(name)
    return value if isinstance(value, Decimal) else None


def _price_from_entry(key: str, entry: Mapping[str, Any], source: str) -> ModelPrice:
    tiers: dict[int, dict[str, Decimal]] = {}
    for name, value in entry.items():
        match = _LONG_FIELD.match(name)
        if match and isinstance(value, Decimal):
            tiers.setdefault(int(match[2]) * 1000, {})[match[1]] = value
    threshold = min(tiers) if tiers else None
    long = tiers.get(threshold, {}) if threshold is not None else {}
    return ModelPrice(
        provider=provider_family(str(entry.get("litellm_provider") or "")) or "unknown",
        model=key,
        input_usd_per_token=_dec(entry, "input_cost_per_token") or _ZERO,
        output_usd_per_token=_dec(entry, "output_cost_per_token") or _ZERO,
        cached_input_usd_per_token=_dec(entry, "cache_read_input_token_cost"),
        cache_write_usd_per_token=_dec(entry, "cache_creation_input_token_cost"),
        cache_write_1h_usd_per_token=_dec(entry, "cache_creation_input_token_cost_above_1hr"),
        batch_input_usd_per_token=_dec(entry, "input_cost_per_token_batches"),
        batch_output_usd_per_token=_dec(entry, "output_cost_per_token_batches"),
        long_context_threshold_tokens=threshold,
        long_context_input_usd_per_token=long.get("input_cost_per_token"),
        long_context_output_usd_per_token=long.get("output_cost_per_token"),
        long_context_cached_input_usd_per_token=long.get("cache_read_input_token_cost"),
        long_context_cache_write_usd_per_token=long.get("cache_creation_input_token_cost"),
        long_context_cache_write_1h_usd_per_token=long.get(
            "cache_creation_input_token_cost_above_1hr"
        ),
        source=source,
    )


_OVERRIDE_FIELDS = (
    "input_usd_per_token",
    "output_usd_per_token",
    "cached_input_usd_per_token",
    "cache_write_usd_per_token",
    "cache_write_1h_usd_per_token",
    "batch_input_usd_per_token",
    "batch_output_usd_per_token",
)
_DISCOUNTED_FIELDS = (
    *_OVERRIDE_FIELDS,
    "long_context_input_usd_per_token",
    "long_context_output_usd_per_token",
    "long_context_cached_input_usd_per_token",
    "long_context_cache_write_usd_per_token",
    "long_context_cache_write_1h_usd_per_token",
)


def _is_complete(override: PriceOverride) -> bool:
    return override.input_usd_per_token is not None and override.output_usd_per_token is not None


def _from_override(family: str, model: str, override: PriceOverride) -> ModelPrice:
    assert override.input_usd_per_token is not None and override.output_usd_per_token is not None
    price = ModelPrice(
        provider=family,
        model=model,
        input_usd_per_token=override.input_usd_per_token,
        output_usd_per_token=override.output_usd_per_token,
        source="costrail.yaml override",
    )
    return _apply_override(price, override)


def _apply_override(price: ModelPrice, override: PriceOverride) -> ModelPrice:
    changes: dict[str, Any] = {}
    if override.discount_pct is not None:
        factor = 1 - override.discount_pct / 100
        for name in _DISCOUNTED_FIELDS:
            value = getattr(price, name)
            if value is not None:
                changes[name] = value * factor
    for name in _OVERRIDE_FIELDS:
        value = getattr(override, name)
        if value is not None:
            changes[name] = value
    note = "costrail.yaml override"
    if override.discount_pct is not None:
        note += f" ({override.discount_pct}% off {price.source})"
    return replace(price, **changes, source=note)


# --- parsing and validation ------------------------------------------------------------------


def parse_price_map(text: str, *, file: str | Path | None = None) -> dict[str, Mapping[str, Any]]:
    """Parse and validate a LiteLLM-format price map; money fields become exact Decimals.

    Raises `InputError` naming the entry and field that is not the price-map shape.
    """
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(
            f"not JSON: {error.msg} at line {error.lineno}", file=file, row=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "a price map is a JSON object keyed by model name", file=file, hint=_SHAPE_HINT
        )
    entries: dict[str, Mapping[str, Any]] = {}
    priced = 0
    for key, entry in data.items():
        if key == "sample_spec":
            continue
        if not isinstance(entry, dict):
            raise InputError(
                f"entry {key!r} is not an object", file=file, column=key, hint=_SHAPE_HINT
            )
        _validate_entry(key, entry, file)
        if "input_cost_per_token" in entry:
            priced += 1
        entries[key.strip().lower()] = entry
    if priced == 0:
        raise InputError("no entry has `input_cost_per_token`", file=file, hint=_SHAPE_HINT)
    return entries


_SHAPE_HINT = (
    "expected LiteLLM's model_prices_and_context_window.json format: "
    '{"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06, ...}, ...}'
)


def _validate_entry(key: str, entry: Mapping[str, Any], file: str | Path | None) -> None:
    provider = entry.get("litellm_provider")
    if provider is not None and not isinstance(provider, str):
        raise InputError(
            f"entry {key!r}: `litellm_provider` must be a string",
            file=file,
            column=f"{key}.litellm_provider",
        )
    for name, value in entry.items():
        if ("_cost_per_" in name or name.endswith("_token_cost")) and not isinstance(
            value, (Decimal, dict)
        ):
            raise InputError(
                f"entry {key!r}: `{name}` is {value!r}, not a number",
                file=file,
                column=f"{key}.{name}",
                hint=_SHAPE_HINT,
            )
        if isinstance(value, Decimal) and value < 0 and "cost" in name:
            raise InputError(
                f"entry {key!r}: `{name}` is negative", file=file, column=f"{key}.{name}"
            )


@cache
def _packaged_entries() -> dict[str, Mapping[str, Any]]:
    text = (
        resources.files("costrail.pricing")
        .joinpath("data", "llm", SNAPSHOT_FILE)
        .read_text(encoding="utf-8")
    )
    return parse_price_map(text, file=f"costrail/pricing/data/llm/{SNAPSHOT_FILE}")


@cache
def _file_entries(path: str, mtime_ns: int, size_bytes: int) -> dict[str, Mapping[str, Any]]:
    """A price-map file parsed once per (path, modification time, size): loads are cheap."""
    return parse_price_map(Path(path).read_text(encoding="utf-8"), file=path)


def _file_source(path: Path) -> str:
    meta = path.with_suffix(".meta.json")
    if meta.is_file():
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            return f"price map {info.get('source_name', path.name)} installed {info['installed']}"
        except (ValueError, KeyError):
            pass
    return f"price map {path}"
