"""The `guard` section of costrail.yaml: upstreams, aliases, identities, budgets and limits."""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from costrail.config import Section, register_section

Provider = Literal["openai", "anthropic"]
Scope = Literal["global", "key", "user", "team", "feature"]


class Upstream(Section):
    """One provider endpoint the gateway forwards to (`base_url` ends before `/v1`)."""

    provider: Provider = "openai"
    base_url: str = "https://api.openai.com"
    #: the secret itself (discouraged) or, better, the environment variable holding it
    api_key: str | None = None
    api_key_env: str | None = None
    timeout_s: float = Field(default=300.0, gt=0)

    def resolved_api_key(self) -> str | None:
        """The upstream secret: `api_key_env` wins so the file can be committed without it."""
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return self.api_key


class ClientKey(Section):
    """A caller's API key mapped to an identity; the secret itself is never recorded."""

    key: str | None = None
    key_env: str | None = None
    alias: str
    user: str | None = None
    team: str | None = None
    feature: str | None = None

    def resolved_key(self) -> str | None:
        if self.key_env:
            return os.environ.get(self.key_env)
        return self.key


class Budget(Section):
    """`amount_usd` per `period` (UTC) for each value of `scope` (or only `match`)."""

    scope: Scope = "key"
    #: one value of the scope (a key alias, a user, …); "*" gives every value its own budget
    match: str = "*"
    amount_usd: Decimal = Field(gt=0)
    period: Literal["day", "month", "custom"] = "month"
    #: for `period: custom`: the window [starts_at, ends_at), UTC
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @model_validator(mode="after")
    def _custom_needs_window(self) -> Budget:
        if self.period == "custom" and (self.starts_at is None or self.ends_at is None):
            raise ValueError("period: custom needs starts_at and ends_at")
        return self


class RateLimit(Section):
    """Requests and tokens per minute for each value of `scope` (GCRA, burst = one minute)."""

    scope: Scope = "key"
    match: str = "*"
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)


class CacheSettings(Section):
    """Exact-match response cache: only non-streaming calls, temperature 0 unless widened."""

    enabled: bool = False
    ttl_s: float = Field(default=3600.0, gt=0)
    max_entries: int = Field(default=10_000, gt=0)
    any_temperature: bool = False


class StoreSettings(Section):
    """Where budget and rate state lives: SQLite for one node, Redis for several replicas."""

    kind: Literal["sqlite", "redis"] = "sqlite"
    path: str = "costrail-guard.sqlite"
    url: str = "redis://127.0.0.1:6379/0"


class PrivacySettings(Section):
    store_prompts: bool = False


@register_section("guard")
class GuardSection(Section):
    """Everything `costrail gateway` and `costrail.guard.wrap` enforce."""

    upstreams: dict[str, Upstream] = Field(default_factory=dict)
    #: client-facing model name → ordered "upstream/model" targets (fallback in order)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    keys: list[ClientKey] = Field(default_factory=list)
    #: refuse callers whose key is not listed in `keys`
    require_key: bool = False
    budgets: list[Budget] = Field(default_factory=list)
    rate_limits: list[RateLimit] = Field(default_factory=list)
    #: output cap injected into requests that set none, so the worst case stays bounded
    default_max_tokens: int = Field(default=4096, gt=0)
    #: tokens charged per image (or audio/file part) in the input upper bound
    image_tokens: int = Field(default=4096, ge=0)
    #: a reservation not settled within this time stops holding budget (crashed caller)
    reservation_lease_s: float = Field(default=900.0, gt=0)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    #: warehouse URL for the `llm_requests` rows (none: the top-level `warehouse`)
    warehouse: str | None = None
    #: the gateway's connection pool to its upstreams (see `guard.gateway.upstream_limits`)
    upstream_max_connections: int = Field(default=1000, gt=0)
    upstream_max_idle_connections: int = Field(default=8, ge=0)
    upstream_idle_expiry_s: float = Field(default=5.0, gt=0)
    recorder_batch_size: int = Field(default=1000, gt=0)
    recorder_interval_s: float = Field(default=2.0, gt=0)
    #: write rows from a child process (None: yes for `costrail gateway`, no inside an app
    #: using `wrap()`, where a thread is less intrusive)
    recorder_process: bool | None = None

    @model_validator(mode="after")
    def _lease_outlives_upstream_timeout(self) -> GuardSection:
        for name, upstream in self.upstreams.items():
            if upstream.timeout_s >= self.reservation_lease_s:
                raise ValueError(
                    f"upstream {name!r} timeout_s ({upstream.timeout_s}) must be below "
                    f"reservation_lease_s ({self.reservation_lease_s}), or a slow call could "
                    "outlive its reservation"
                )
        for alias, targets in self.aliases.items():
            for target in targets:
                upstream_name = target.split("/", 1)[0]
                if "/" not in target or upstream_name not in self.upstreams:
                    raise ValueError(
                        f"alias {alias!r}: target {target!r} must be 'upstream/model' with a "
                        "configured upstream"
                    )
        return self
