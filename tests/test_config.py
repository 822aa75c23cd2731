"""costrail.yaml: errors name the file, line and key; unknown sections are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from costrail.config import ConfigError, Section, load_config, parse_config, register_section


@register_section("example_for_tests")
class ExampleSection(Section):
    limit: int = 5
    names: list[str] = Field(default_factory=list)


def test_absent_default_file_is_an_empty_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSTRAIL_CONFIG", raising=False)
    config = load_config()
    assert config.raw == {}
    assert config.section("example_for_tests", ExampleSection).limit == 5


def test_named_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.yaml")


def test_type_error_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "costrail.yaml"
    path.write_text("warehouse: duckdb:///x.duckdb\nexample_for_tests:\n  limit: lots\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert f"{path}:3: example_for_tests.limit" in str(raised.value)


def test_unknown_section_is_refused_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"costrail.yaml:2: unknown section 'bugdets'"):
        parse_config("warehouse: x\nbugdets: []\n")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r":2: not valid YAML"):
        parse_config("a: 1\n  b: [\n")


def test_valid_file_gives_its_sections() -> None:
    config = parse_config("warehouse: duckdb:///w.duckdb\nexample_for_tests:\n  limit: 9\n")
    assert config.warehouse == "duckdb:///w.duckdb"
    assert config.section("example_for_tests", ExampleSection).limit == 9
