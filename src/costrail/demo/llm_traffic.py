"""Acme AI's LLM API traffic as OpenTelemetry GenAI spans (OTLP JSON), with planted waste.

    DIR/llm/otel/YYYY-MM-DD.json   (one OTLP `ExportTraceServiceRequest` per UTC day)

The last billing period of the timeline carries five callers: the support chatbot (Anthropic
Claude Sonnet, a 16k-token system prompt sent without `cache_control`: a caching opportunity),
a nightly enrichment job (OpenAI gpt-4o at interactive prices, machine-paced: batch-eligible),
a helpdesk ticket classifier answering in 1–4 tokens on gpt-4o (a downgrade candidate), a
research agent (gpt-4o) that loops for 90 minutes one night (runaway), and a Gemini document
summariser with no waste. Spans carry the GenAI semantic-convention attributes plus costrail's
own (`costrail.feature`, `costrail.team`, `costrail.api_key`, prompt prefix hashes from
`costrail.llm.prefix`). Token counts follow the convention: `gen_ai.usage.input_tokens`
includes cache reads and writes. `clean=True` writes the same callers without the waste:
cached, batched, on the cheaper model, no loop.

Planted savings are the exact catalog cost of the wasteful traffic minus that of the fixed
traffic, over the requests generated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np

from costrail.demo.ids import IdFactory, stable_hash
from costrail.demo.timeline import LOCAL_OFFSET_HOURS, Timeline
from costrail.demo.truth import PlantedItem
from costrail.llm.prefix import estimate_tokens, prefix_hashes
from costrail.llm.usage import TokenUsage
from costrail.pricing.llm import LlmPrices, ModelPrice

LLM_OTEL_DIR = Path("llm") / "otel"
SCOPE = {"name": "costrail.demo", "version": "1"}
#: seconds OpenAI and Anthropic keep a prompt prefix cached after its last use
CACHE_TTL_S = 300
SIGNAL = "llm telemetry: "


@dataclass(frozen=True)
class Caller:
    """Who calls: the attributes every span of one feature shares (OTel resource attributes)."""

    service: str
    feature: str
    team: str
    api_key: str
    provider: str
    model: str


@dataclass(frozen=True)
class Call:
    """One request as a span will record it."""

    caller: Caller
    start_ns: int
    duration_ms: int
    input_tokens: int
    output_tokens: int
    user: str
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    prefix: tuple[tuple[str, int], ...] = ()
    streamed: bool = False
    batch: bool = False
    model: str | None = None

    @property
    def model_name(self) -> str:
        return self.model or self.caller.model

    def usage(self) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens,
            output_tokens=self.output_tokens,
        )


SUPPORT = Caller(
    "lumen-support",
    "support-chat",
    "ml-platform",
    "lumen-web-prod",
    "anthropic",
    "claude-sonnet-4-5",
)
ENRICH = Caller("data-enrichment", "nightly-enrichment", "data", "data-etl", "openai", "gpt-4o")
CLASSIFY = Caller("helpdesk", "ticket-classifier", "support", "helpdesk-prod", "openai", "gpt-4o")
AGENT = Caller("atlas-agent", "research-agent", "research", "research-agent", "openai", "gpt-4o")
SUMMARISE = Caller(
    "docs", "doc-summarizer", "applied", "docs-prod", "gcp.vertex_ai", "gemini-2.5-flash"
)
CHEAPER_CLASSIFIER_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class LlmTraffic:
    files: tuple[Path, ...]
    planted: tuple[PlantedItem, ...]
    spans: int


class _Month:
    """The last billing period: its UTC start, work hours, and random streams."""

    def __init__(self, timeline: Timeline, ids: IdFactory) -> None:
        self.timeline = timeline
        self.ids = ids
        self.index = len(timeline.periods) - 1
        first = int(timeline.period_start_hours[self.index])
        last = int(timeline.period_end_hours[self.index])
        self.hours = np.arange(first, last, dtype=np.int64)
        self.work_hours = self.hours[timeline.workday_mask[first:last]]
        self.period = timeline.periods[self.index]

    def ns(self, hour: int, seconds: float) -> int:
        moment = self.timeline.at(hour)
        return int(moment.timestamp()) * 1_000_000_000 + int(seconds * 1e9)

    def poisson_in_work_hours(self, purpose: str, per_hour: float) -> list[int]:
        """Arrival times (ns), people-paced: Poisson counts, uniform within each work hour."""
        rng = self.ids.rng(purpose)
        times: list[int] = []
        for hour in self.work_hours:
            offsets = np.sort(rng.uniform(0, 3600, size=rng.poisson(per_hour)))
            times.extend(self.ns(int(hour), float(s)) for s in offsets)
        return times


@cache
def _filler() -> str:
    """64 KiB of deterministic prose-like filler; prompts are unique slices of it."""
    words = ("policy", "refund", "order", "shipping", "account", "escalate", "tone", "cite")
    picks = np.random.default_rng(0).integers(0, len(words), size=20_000)
    return " ".join(words[int(i)] for i in picks)


def _text(purpose: str, n_bytes: int) -> str:
    """Deterministic text of exactly `n_bytes` ASCII bytes, starting with `purpose`."""
    filler = _filler()
    offset = stable_hash(purpose) % (len(filler) // 2)
    return (purpose + " " + filler[offset:] + filler)[:n_bytes]


def _hashes(body: object, caller: Caller) -> tuple[tuple[str, int], ...]:
    hashes, tokens = prefix_hashes(body, provider=caller.provider, model=caller.model)  # type: ignore[arg-type]
    return tuple(zip(hashes, tokens, strict=True))


def _with_cache(calls: list[Call], provider_caches_automatically: bool, marked: bool) -> list[Call]:
    """Cache reads and writes as the provider would bill them (TTL refreshed on every use).

    A request reads the longest prefix used within the TTL; with a `cache_control` breakpoint
    (`marked`, Anthropic) a miss writes the prefix. OpenAI caches automatically, without a
    write premium, so its hits show as cached tokens even in the wasteful company.
    """
    if not (provider_caches_automatically or marked):
        return calls
    last_used: dict[str, int] = {}
    out: list[Call] = []
    for call in sorted(calls, key=lambda c: c.start_ns):
        hit = max(
            (
                tokens
                for digest, tokens in call.prefix
                if call.start_ns - last_used.get(digest, -(10**30)) <= CACHE_TTL_S * 10**9
            ),
            default=0,
        )
        for digest, _ in call.prefix:
            last_used[digest] = call.start_ns
        write = call.prefix[-1][1] if marked and call.prefix and hit == 0 else 0
        out.append(replace(call, cached_input_tokens=hit, cache_write_tokens=write))
    return out


def support_chat(month: _Month, clean: bool) -> list[Call]:
    """Customers chatting in office hours; a 16k-token system prompt, cached only when clean."""
    rng = month.ids.rng("llm/support/tokens")
    system = _text("support system prompt", 64_000)
    calls = []
    for i, start in enumerate(month.poisson_in_work_hours("llm/support/arrivals", 20)):
        question = _text(f"question {i}", int(rng.integers(400, 4_000)))
        body = {"system": system, "messages": [{"role": "user", "content": question}]}
        calls.append(
            Call(
                SUPPORT,
                start,
                int(rng.integers(2_000, 9_000)),
                estimate_tokens(system) + estimate_tokens(question) + 12,
                int(rng.integers(120, 600)),
                f"customer-{int(rng.integers(1, 2_500)):05d}",
                prefix=_hashes(body, SUPPORT),
                streamed=True,
            )
        )
    return with_breakpoint(calls) if clean else calls


def with_breakpoint(calls: list[Call]) -> list[Call]:
    """The same calls with a `cache_control` breakpoint after the system prompt: the only
    cacheable boundary is then the system prompt's end (the first message boundary)."""
    marked = [replace(call, prefix=call.prefix[:1]) for call in calls]
    return _with_cache(marked, provider_caches_automatically=False, marked=True)


def nightly_enrichment(month: _Month, clean: bool) -> list[Call]:
    """A service account enriching documents every 30 s from 01:00 local for 75 minutes."""
    rng = month.ids.rng("llm/enrichment")
    calls = []
    local_one_am = (1 - LOCAL_OFFSET_HOURS) % 24
    for hour in month.hours[month.timeline.local_hour[month.hours] == 1]:
        assert (int(hour) % 24) == local_one_am
        for step in range(150):
            start = month.ns(int(hour), 30 * step + float(rng.uniform(-1, 1)) + 1)
            calls.append(
                Call(
                    ENRICH,
                    start,
                    int(rng.integers(8_000, 20_000)),
                    int(rng.integers(18_000, 22_000)),
                    int(rng.integers(1_200, 1_800)),
                    "svc-enrichment",
                    batch=clean,
                )
            )
    return calls


def ticket_classifier(month: _Month, clean: bool) -> list[Call]:
    """The helpdesk labels each ticket thread with one of a few categories (1–4 tokens out)."""
    rng = month.ids.rng("llm/classifier/tokens")
    return [
        Call(
            CLASSIFY,
            start,
            int(rng.integers(300, 1_200)),
            int(rng.integers(9_000, 11_000)),
            int(rng.integers(1, 5)),
            f"agent-{int(rng.integers(1, 40)):02d}",
            model=CHEAPER_CLASSIFIER_MODEL if clean else None,
        )
        for start in month.poisson_in_work_hours("llm/classifier/arrivals", 20)
    ]


def research_agent(month: _Month, clean: bool) -> tuple[list[Call], list[Call]]:
    """The agent's normal office-hours work, and (unless clean) a 90-minute loop one night
    resending one 8k-token prompt 45 times a minute. OpenAI caches its prefixes automatically."""
    rng = month.ids.rng("llm/agent/tokens")
    system = _text("agent system prompt", 9_000)
    calls = []
    for i, start in enumerate(month.poisson_in_work_hours("llm/agent/arrivals", 5)):
        task = _text(f"agent task {i}", int(rng.integers(8_000, 24_000)))
        body = {
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": task}]
        }
        calls.append(
            Call(
                AGENT,
                start,
                int(rng.integers(3_000, 20_000)),
                estimate_tokens(system) + estimate_tokens(task) + 10,
                int(rng.integers(200, 1_500)),
                "alice",
                prefix=_hashes(body, AGENT),
            )
        )
    loop: list[Call] = []
    if not clean:
        stuck = _text("agent stuck step", 23_000)
        body = {
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": stuck}]
        }
        prefix = _hashes(body, AGENT)
        night = int(month.work_hours[len(month.work_hours) * 2 // 3]) // 24 * 24 + 9  # 02:00 local
        for step in range(90 * 45):
            start = month.ns(night, 600 + step * 60 / 45 + float(rng.uniform(0, 0.2)))
            loop.append(
                Call(
                    AGENT,
                    start,
                    int(rng.integers(900, 1_300)),
                    estimate_tokens(system) + estimate_tokens(stuck) + 10,
                    1_500,
                    "alice",
                    prefix=prefix,
                )
            )
    both = _with_cache(calls + loop, provider_caches_automatically=True, marked=False)
    loop_starts = {c.start_ns for c in loop}
    return [c for c in both if c.start_ns not in loop_starts], [
        c for c in both if c.start_ns in loop_starts
    ]


def doc_summarizer(month: _Month) -> list[Call]:
    """Analysts summarising documents on Gemini Flash: spend, no waste."""
    rng = month.ids.rng("llm/summarizer/tokens")
    return [
        Call(
            SUMMARISE,
            start,
            int(rng.integers(1_500, 6_000)),
            int(rng.integers(2_000, 4_000)),
            int(rng.integers(200, 600)),
            f"analyst-{int(rng.integers(1, 12)):02d}",
            streamed=True,
        )
        for start in month.poisson_in_work_hours("llm/summarizer/arrivals", 5)
    ]


# --- OTLP JSON ---------------------------------------------------------------------------------


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        items = [
            {"intValue": str(v)} if isinstance(v, int) else {"stringValue": str(v)} for v in value
        ]
        return {"key": key, "value": {"arrayValue": {"values": items}}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(call: Call, seed: int, index: int) -> dict[str, object]:
    key = f"{seed}/llm/trace/{call.caller.feature}/{call.start_ns}/{index}"
    trace = hashlib.sha256(key.encode()).hexdigest()[:32]
    attributes = [
        _attr("gen_ai.operation.name", "chat"),
        _attr("gen_ai.provider.name", call.caller.provider),
        _attr("gen_ai.request.model", call.model_name),
        _attr("gen_ai.response.id", "resp_" + trace[:24]),
        _attr("gen_ai.usage.input_tokens", call.input_tokens),
        _attr("gen_ai.usage.output_tokens", call.output_tokens),
        _attr("user.id", call.user),
    ]
    if call.cached_input_tokens:
        attributes.append(_attr("gen_ai.usage.cache_read.input_tokens", call.cached_input_tokens))
    if call.cache_write_tokens:
        attributes.append(
            _attr("gen_ai.usage.cache_creation.input_tokens", call.cache_write_tokens)
        )
    if call.streamed:
        attributes.append(_attr("costrail.streamed", True))
    if call.batch:
        attributes.append(_attr("costrail.batch", True))
    if call.prefix:
        attributes.append(_attr("costrail.prompt.prefix_hashes", [h for h, _ in call.prefix]))
        attributes.append(_attr("costrail.prompt.prefix_tokens", [t for _, t in call.prefix]))
    return {
        "traceId": trace,
        "spanId": trace[:16],
        "name": f"{'chat'} {call.model_name}",
        "kind": 3,
        "startTimeUnixNano": str(call.start_ns),
        "endTimeUnixNano": str(call.start_ns + call.duration_ms * 1_000_000),
        "attributes": attributes,
        "status": {},
    }


def _resource(caller: Caller) -> list[dict[str, object]]:
    return [
        _attr("service.name", caller.service),
        _attr("costrail.feature", caller.feature),
        _attr("costrail.team", caller.team),
        _attr("costrail.api_key", caller.api_key),
    ]


def _days(calls: list[Call]) -> Iterator[tuple[str, list[Call]]]:
    by_day: dict[str, list[Call]] = {}
    for call in calls:
        day = datetime.fromtimestamp(call.start_ns / 1e9, tz=UTC).strftime("%Y-%m-%d")
        by_day.setdefault(day, []).append(call)
    for day in sorted(by_day):
        yield day, sorted(by_day[day], key=lambda c: (c.start_ns, c.caller.feature))


def write_spans(out_dir: Path, calls: list[Call], seed: int) -> list[Path]:
    """One OTLP JSON file per UTC day, spans grouped by calling service (resource)."""
    folder = out_dir / LLM_OTEL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for day, day_calls in _days(calls):
        by_caller: dict[Caller, list[dict[str, object]]] = {}
        for index, call in enumerate(day_calls):
            by_caller.setdefault(call.caller, []).append(_span(call, seed, index))
        document = {
            "resourceSpans": [
                {
                    "resource": {"attributes": _resource(caller)},
                    "scopeSpans": [{"scope": SCOPE, "spans": spans}],
                }
                for caller, spans in sorted(by_caller.items(), key=lambda item: item[0].service)
            ]
        }
        path = folder / f"{day}.json"
        path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        paths.append(path)
    return paths


# --- truth -------------------------------------------------------------------------------------


class _Pricer:
    """Catalog cost of calls (one catalog lookup per provider and model)."""

    def __init__(self) -> None:
        self.prices = LlmPrices.load()
        self.models: dict[tuple[str, str], ModelPrice] = {}

    def __call__(self, calls: list[Call]) -> Decimal:
        total = Decimal(0)
        for call in calls:
            key = (call.caller.provider, call.model_name)
            if key not in self.models:
                self.models[key] = self.prices.lookup(*key)
            total += self.models[key].cost_usd(call.usage(), batch=call.batch)
        return total


def _item(
    month: _Month,
    kind: str,
    caller: Caller,
    resource: str,
    cost_usd: Decimal,
    savings_usd: Decimal,
    description: str,
    fix: str,
    signal: str,
) -> PlantedItem:
    zero = dict.fromkeys(month.timeline.periods, Decimal(0))
    return PlantedItem(
        kind=kind,
        provider=caller.provider,
        resources=(resource,),
        description=description,
        cost_by_period={**zero, month.period: cost_usd},
        savings_by_period={**zero, month.period: savings_usd},
        fix=fix,
        signal=SIGNAL + signal,
    )


def _feature_resource(caller: Caller) -> str:
    return f"llm:{caller.provider}/{caller.model}/feature={caller.feature}"


def _planted(month: _Month, calls: dict[str, list[Call]]) -> tuple[PlantedItem, ...]:
    """Each waste's cost, and its saving: wasteful traffic minus the same traffic fixed."""
    cost = _Pricer()
    chat_usd = cost(calls["chat"])
    enrich_usd = cost(calls["enrich"])
    classify_usd = cost(calls["classify"])
    loop_usd = cost(calls["loop"])
    fixed_chat_usd = cost(with_breakpoint(calls["chat"]))
    fixed_enrich_usd = cost([replace(c, batch=True) for c in calls["enrich"]])
    fixed_classify_usd = cost(
        [replace(c, model=CHEAPER_CLASSIFIER_MODEL) for c in calls["classify"]]
    )
    return (
        _item(
            month,
            "llm_prompt_caching",
            SUPPORT,
            _feature_resource(SUPPORT),
            chat_usd,
            chat_usd - fixed_chat_usd,
            "The support chatbot sends a 16k-token system prompt to Claude Sonnet with every "
            "message and never marks it cacheable, paying full input price for it every time.",
            "Add a cache_control breakpoint after the system prompt (5-minute TTL).",
            "the same prompt prefix hash on most requests, minutes apart, with no cache reads",
        ),
        _item(
            month,
            "llm_batch_eligible",
            ENRICH,
            _feature_resource(ENRICH),
            enrich_usd,
            enrich_usd - fixed_enrich_usd,
            "A nightly enrichment job (svc-enrichment) calls gpt-4o synchronously, one request "
            "every 30 s, though nobody waits for the answers.",
            "Submit the night's requests through the OpenAI Batch API.",
            "a service account, no streaming, machine-paced arrivals every night",
        ),
        _item(
            month,
            "llm_model_downgrade",
            CLASSIFY,
            _feature_resource(CLASSIFY),
            classify_usd,
            classify_usd - fixed_classify_usd,
            "The helpdesk ticket classifier answers with a 1–4 token label but runs on gpt-4o.",
            "A/B test gpt-4o-mini on a labelled eval set, then switch via a gateway alias.",
            "p95 output of 4 tokens on a premium model",
        ),
        _item(
            month,
            "llm_runaway",
            AGENT,
            f"llm:key={AGENT.api_key}",
            loop_usd,
            loop_usd,
            "The research agent got stuck one night and resent the same 8k-token prompt 45 times "
            "a minute for 90 minutes.",
            "Break agent loops after N identical calls; put a daily budget on the key.",
            "one key, one prompt prefix, 45 requests a minute at night",
        ),
    )


def build_llm_traffic(out_dir: Path, timeline: Timeline, ids: IdFactory, clean: bool) -> LlmTraffic:
    """Write the month's spans under `out_dir/llm/otel/` and return files and planted items."""
    month = _Month(timeline, ids)
    agent, loop = research_agent(month, clean)
    calls = {
        "chat": support_chat(month, clean),
        "enrich": nightly_enrichment(month, clean),
        "classify": ticket_classifier(month, clean),
        "agent": agent,
        "loop": loop,
        "summaries": doc_summarizer(month),
    }
    every_call = [call for group in calls.values() for call in group]
    files = write_spans(out_dir, every_call, ids.seed)
    planted = () if clean else _planted(month, calls)
    return LlmTraffic(tuple(files), planted, len(every_call))
