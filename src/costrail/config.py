"""`costrail.yaml`: one validated file for the warehouse, thresholds, budgets, alerts and guards.

Each concern keeps its own section model next to the code that uses it (budgets in
`policy/`, guard limits in `guard/`, …); this module only assembles the sections and turns a
validation error into a message naming the file, line and key, so a typo is fixed in seconds.
Sections register themselves with `register_section`, so a module that is never imported
adds no weight and no coupling here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from costrail.errors import CostrailError

#: where `load_config()` looks when no path is given (first hit wins)
CONFIG_ENV = "COSTRAIL_CONFIG"
DEFAULT_CONFIG_NAMES = ("costrail.yaml", "costrail.yml")

SectionModel = TypeVar("SectionModel", bound=BaseModel)
_sections: dict[str, type[BaseModel]] = {}


class ConfigError(CostrailError):
    """`costrail.yaml` is not valid; the message names file, line and key."""

    exit_code = 2


class Section(BaseModel):
    """Base of every section: unknown keys are mistakes, not silently ignored options."""

    model_config = ConfigDict(extra="forbid")


def register_section(name: str) -> Any:
    """Class decorator: `@register_section("budgets")` on the model of that top-level key."""

    def add(model: type[SectionModel]) -> type[SectionModel]:
        if name in _sections and _sections[name] is not model:
            raise ValueError(f"config section {name!r} is registered twice")
        _sections[name] = model
        return model

    return add


@dataclass(frozen=True)
class Config:
    """The parsed file: raw mapping plus the sections validated so far (lazily, by name)."""

    path: Path | None
    raw: dict[str, Any]
    lines: dict[tuple[str | int, ...], int]

    @property
    def warehouse(self) -> str | None:
        value = self.raw.get("warehouse")
        return None if value is None else str(value)

    def section(self, name: str, model: type[SectionModel]) -> SectionModel:
        """The `name` section validated as `model` (its defaults when the key is absent)."""
        data = self.raw.get(name)
        if data is None:
            data = {}
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise ConfigError(self._describe(name, error)) from None

    def _describe(self, name: str, error: ValidationError) -> str:
        where = str(self.path) if self.path else "costrail.yaml"
        problems: list[str] = []
        for item in error.errors():
            key_path: tuple[str | int, ...] = (name, *item["loc"])
            line = self._line_of(key_path)
            dotted = ".".join(str(part) for part in key_path)
            at = f"{where}:{line}" if line else where
            problems.append(f"{at}: {dotted}: {item['msg']}")
        return "invalid configuration\n  " + "\n  ".join(problems)

    def _line_of(self, key_path: tuple[str | int, ...]) -> int | None:
        """The line of the deepest key of `key_path` that the file spells out."""
        for depth in range(len(key_path), 0, -1):
            line = self.lines.get(key_path[:depth])
            if line is not None:
                return line
        return None


def load_config(path: str | Path | None = None) -> Config:
    """Read `costrail.yaml` (given path, `$COSTRAIL_CONFIG`, or ./costrail.yaml); an absent
    default file is an empty config, an absent named file is an error."""
    chosen = _resolve(path)
    if chosen is None:
        return Config(path=None, raw={}, lines={})
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {chosen}: {error.strerror}") from None
    return parse_config(text, chosen)


def parse_config(text: str, path: Path | None = None) -> Config:
    """Parse YAML text, keeping the line of every key for error messages."""
    where = str(path) if path else "costrail.yaml"
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{line}: not valid YAML: {error}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}:1: the top level must be a mapping of sections")
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    config = Config(path=path, raw=raw, lines=lines)
    _check_known_sections(config)
    return config


def _resolve(path: str | Path | None) -> Path | None:
    if path is not None:
        named = Path(path)
        if not named.exists():
            raise ConfigError(f"{named}: no such configuration file")
        return named
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return _resolve(from_env)
    for name in DEFAULT_CONFIG_NAMES:
        candidate = Path(name)
        if candidate.exists():
            return candidate
    return None


def _collect_lines(
    node: yaml.Node, prefix: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*prefix, str(key_node.value))
            lines[key_path] = key_node.start_mark.line + 1
            _collect_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key_path = (*prefix, index)
            lines[key_path] = item.start_mark.line + 1
            _collect_lines(item, key_path, lines)


def _check_known_sections(config: Config) -> None:
    """Validate every registered section now, and refuse unknown top-level keys."""
    _import_sections()
    known = {"warehouse", *_sections}
    for key in config.raw:
        if key not in known:
            line = config.lines.get((str(key),))
            at = f"{config.path or 'costrail.yaml'}:{line}" if line else "costrail.yaml"
            expected = ", ".join(sorted(known))
            raise ConfigError(f"{at}: unknown section {key!r}; expected one of: {expected}")
    for name, model in _sections.items():
        if name in config.raw:
            config.section(name, model)


def _import_sections() -> None:
    """Import the modules that own sections, so their models are registered."""
    import importlib

    for module in SECTION_MODULES:
        importlib.import_module(module)


#: modules defining a `@register_section` model; a new section adds its module here
SECTION_MODULES: list[str] = [
    "costrail.pricing.llm",
    "costrail.sources.llm.otel",
    "costrail.policy.budgets",
    "costrail.alerts.settings",
    "costrail.policy.actions",
    "costrail.watch.settings",
    "costrail.guard.config",
    "costrail.analyses.gpu_settings",
]
