"""A folder of one-scrape exposition files (one `curl` save a minute) loads like one file."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from costrail.errors import InputError
from costrail.schema.gpu_samples import GPU_SAMPLES_SCHEMA
from costrail.telemetry import load_telemetry
from costrail.warehouse import Warehouse, connect
from tests.telemetry.helpers import FIXTURES

A100 = FIXTURES / "dcgm-a100-node.prom"
START = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
SCRAPES = 30
MARKER = "# costrail-scrape-time:"


def scrape_blocks() -> list[str]:
    """The fixture's two scrapes (dcgm-exporter layout, with blank values), without markers."""
    blocks: list[list[str]] = []
    for line in A100.read_text().splitlines(keepends=True):
        if line.startswith(MARKER):
            blocks.append([])
        else:
            blocks[-1].append(line)
    return ["".join(block) for block in blocks]


def write_folder(folder: Path) -> list[Path]:
    """One file per minute, as `curl -s host:9400/metrics > f` leaves them: the scrape time
    is only in the file's modification time."""
    blocks = scrape_blocks()
    folder.mkdir()
    paths = []
    for minute in range(SCRAPES):
        path = folder / f"scrape-{minute:03d}.prom"
        path.write_text(blocks[minute % len(blocks)])
        moment = (START + timedelta(minutes=minute)).timestamp()
        os.utime(path, (moment, moment))
        paths.append(path)
    return paths


def write_concatenated(path: Path) -> Path:
    """The same scrapes in one file, each preceded by its scrape-time comment."""
    blocks = scrape_blocks()
    with path.open("w") as out:
        for minute in range(SCRAPES):
            moment = START + timedelta(minutes=minute)
            out.write(f"{MARKER} {moment:%Y-%m-%dT%H:%M:%SZ}\n")
            out.write(blocks[minute % len(blocks)])
    return path


def loaded_rows(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    """Every stored sample except the columns that name the file and the load."""
    columns = [n for n in GPU_SAMPLES_SCHEMA.names if n not in ("source_file", "ingest_id")]
    table = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).select(*columns).to_pyarrow()
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=lambda row: repr(row))


def test_many_scrape_files_load_the_same_rows_as_one_concatenated_file(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    folder_report = load_telemetry(warehouse, write_folder(tmp_path / "scrapes"))
    single = connect(str(tmp_path / "single.duckdb"))
    single_report = load_telemetry(single, [write_concatenated(tmp_path / "all.prom")])
    assert folder_report.rows == single_report.rows == SCRAPES * 2
    assert loaded_rows(warehouse) == loaded_rows(single)
    assert folder_report.sentinel_counts == single_report.sentinel_counts
    single.close()


def test_each_scrape_file_keeps_its_own_name_as_source_file(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    paths = write_folder(tmp_path / "scrapes")
    load_telemetry(warehouse, paths)
    table = warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).to_pyarrow()
    by_file: dict[str, set[datetime]] = {}
    for row in table.select(["source_file", "time"]).to_pylist():
        by_file.setdefault(row["source_file"], set()).add(row["time"])
    assert by_file == {
        str(path): {START + timedelta(minutes=minute)} for minute, path in enumerate(paths)
    }


def test_the_first_bad_file_in_order_is_reported_even_when_a_later_one_fails_sooner(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """File 16 has a value that is not a number; file 22 a line that is not exposition text
    at all (checked first when files are parsed together): file 16's error is the answer."""
    paths = write_folder(tmp_path / "scrapes")
    for index, broken in ((16, "} ninety-seven"), (22, "} 97 1 2 3")):
        lines = paths[index].read_text().splitlines(keepends=True)
        assert "} 97" in lines[6]
        lines[6] = lines[6].replace("} 97", broken)
        paths[index].write_text("".join(lines))
    with pytest.raises(InputError) as caught:
        load_telemetry(warehouse, paths)
    assert (caught.value.file, caught.value.row) == (str(paths[16]), 7)
    assert caught.value.column == "DCGM_FI_DEV_GPU_UTIL"
    assert int(warehouse.read("gpu_samples", GPU_SAMPLES_SCHEMA).count().execute()) == 0
