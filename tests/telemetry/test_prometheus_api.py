"""Saved Prometheus HTTP API answers (`query_range` / `query` JSON) → gpu_samples rows."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from costrail.errors import InputError
from costrail.telemetry import parse_query_json
from tests.telemetry.helpers import FIXTURES, rows_by

ANSWER = FIXTURES / "query_range-gpu-util.json"


def test_matrix_series_pivot_into_rows_per_step() -> None:
    rows = rows_by(parse_query_json(ANSWER).table, "time")
    assert len(rows) == 4
    first = rows[("2026-11-02T09:00:00Z",)]
    assert first["gpu_util_pct"] == 88.0
    assert first["memory_used_mib"] == 37120.0
    assert first["memory_total_mib"] == 37120.0 + 3840.0
    assert first["interval_s"] == 60.0
    assert first["source"] == "prometheus"


def test_relabelled_kubernetes_labels_and_gce_provider_id_are_used() -> None:
    row = parse_query_json(ANSWER).table.to_pylist()[0]
    assert row["host"] == "gke-ml-pool-a100-4f2b"
    assert row["namespace"] == "research"
    assert row["pod"] == "bert-pretrain-0"
    assert row["instance_id"] == "gke-ml-pool-a100-4f2b"


def test_nan_and_blank_values_are_counted_not_loaded() -> None:
    parsed = parse_query_json(ANSWER)
    assert parsed.sentinel_counts == {"DCGM_FI_DEV_GPU_UTIL": 2}
    utils = [row["gpu_util_pct"] for row in parsed.table.to_pylist()]
    assert utils == [88.0, 91.0, None, None]


def test_instant_vector_answers_are_read(tmp_path: Path) -> None:
    path = tmp_path / "query.json"
    path.write_text(
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {
                            "metric": {
                                "__name__": "DCGM_FI_DEV_POWER_USAGE",
                                "Hostname": "box",
                                "UUID": "GPU-9",
                                "gpu": "3",
                            },
                            "value": [1793610000.5, "301.25"],
                        }
                    ],
                },
            }
        )
    )
    row = parse_query_json(path).table.to_pylist()[0]
    assert (row["host"], row["gpu_index"], row["power_w"]) == ("box", 3, 301.25)


def test_an_aggregated_answer_takes_its_counter_from_the_file_name(tmp_path: Path) -> None:
    payload = json.loads(ANSWER.read_text())
    payload["data"]["result"] = payload["data"]["result"][:1]
    payload["data"]["result"][0]["metric"].pop("__name__")
    path = tmp_path / "DCGM_FI_DEV_GPU_UTIL.json"
    path.write_text(json.dumps(payload))
    utils = parse_query_json(path).table.column("gpu_util_pct").to_pylist()
    assert utils == [88.0, 91.0, None, None]


def test_a_series_without_a_name_is_an_error_naming_it(tmp_path: Path) -> None:
    payload = json.loads(ANSWER.read_text())
    payload["data"]["result"][1]["metric"].pop("__name__")
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(InputError) as caught:
        parse_query_json(path)
    assert (caught.value.row, caught.value.column) == (2, "__name__")


def test_an_error_answer_is_refused_with_prometheus_message(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text(
        '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\""}'
    )
    with pytest.raises(InputError, match="bad_data"):
        parse_query_json(path)


def test_a_non_numeric_value_names_series_and_counter(tmp_path: Path) -> None:
    text = ANSWER.read_text().replace('"37122"', '"lots"', 1)
    path = tmp_path / "answer.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        parse_query_json(path)
    assert (caught.value.row, caught.value.column) == (2, "DCGM_FI_DEV_FB_USED")


def test_fixture_copy_is_parsed_the_same_as_the_original(tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    shutil.copy(ANSWER, copy)
    left = parse_query_json(ANSWER).table.drop_columns(["source_file"])
    right = parse_query_json(copy).table.drop_columns(["source_file"])
    assert left.equals(right)


def test_long_windows_are_split_under_the_11000_points_limit() -> None:
    from costrail.telemetry.prometheus_api import MAX_POINTS_PER_SERIES, _chunks

    step_s = 60.0
    chunks = list(_chunks(0.0, 30 * 86400.0, step_s))
    assert all((stop - start) / step_s + 1 <= MAX_POINTS_PER_SERIES for start, stop in chunks)
    assert chunks[0][0] == 0.0 and chunks[-1][1] == 30 * 86400.0
    assert all(nxt[0] == prev[1] + step_s for prev, nxt in itertools.pairwise(chunks))


def test_durations_read_like_prometheus_and_bad_ones_are_refused() -> None:
    from costrail.errors import ConfigError
    from costrail.telemetry.prometheus_api import parse_duration_s

    assert parse_duration_s("7d", "--since") == 7 * 86400
    assert parse_duration_s("90s", "--step") == 90
    with pytest.raises(ConfigError, match="--since"):
        parse_duration_s("a week", "--since")
