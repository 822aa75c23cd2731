"""Evaluate the anomaly detectors (seasonal vs trailing7) on labelled data; write
bench/results/anomaly_eval-<stamp>.json.

python bench/anomaly_eval.py --demo                 # the demo company's planted anomalies
python bench/anomaly_eval.py --nab PATH/TO/NAB      # NAB realKnownCause + combined_windows.json
python bench/anomaly_eval.py --demo --nab PATH/TO/NAB

NAB: a checkout (or copy) of github.com/numenta/NAB with data/realKnownCause/*.csv and
labels/combined_windows.json. Series are scored through the same path as
`costrail anomalies --series` (no dollar threshold, rises and drops); a window is found when a
flagged point falls inside it; precision counts runs of flagged points that touch a window.

Demo: precision and recall per event — an anomaly is a true detection when its days overlap
the charge days of a planted anomaly's resources (truth.json); the clean company must give none.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DETECTORS = ("seasonal", "trailing7")


def nab_eval(root: Path, category: str = "realKnownCause") -> dict[str, Any]:
    from costrail.timeseries import AnomalySettings, score_series
    from costrail.timeseries.evaluation import WindowScore, score_windows
    from costrail.timeseries.files import read_series_csv

    labels = json.loads((root / "labels" / "combined_windows.json").read_text(encoding="utf-8"))
    files = sorted((root / "data" / category).glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files under {root / 'data' / category}")
    results: dict[str, Any] = {}
    for detector in DETECTORS:
        settings = AnomalySettings(
            detector=detector, direction="both", min_impact_usd=Decimal("-Infinity")
        )
        total = WindowScore(0, 0, 0, 0)
        per_file = {}
        for path in files:
            windows = [
                (pd.Timestamp(start), pd.Timestamp(end))
                for start, end in labels.get(f"{category}/{path.name}", [])
            ]
            score = score_windows(score_series(read_series_csv(path), settings), windows)
            per_file[path.name] = _score_json(score)
            total = total + score
        results[detector] = {"total": _score_json(total), "files": per_file}
    return results


def demo_eval(directory: Path) -> dict[str, Any]:
    from costrail.demo import generate
    from costrail.timeseries import AnomalySettings, detect_anomalies
    from costrail.warehouse import connect
    from costrail.warehouse.load import ingest

    warehouses = {}
    for clean in (False, True):
        folder = directory / ("clean" if clean else "acme")
        database = folder / "w.duckdb"
        if not database.exists():
            generate(folder, rows=None, seed=7, clean=clean)
            ingest(connect(str(database)), [folder / name for name in ("aws", "gcp", "azure")])
        warehouses[clean] = connect(str(database))
    truth = json.loads((directory / "acme" / "truth.json").read_text(encoding="utf-8"))
    # every planted anomaly carries its days and root cause in truth.json (`anomaly`)
    planted = [item for item in truth["planted"] if "anomaly" in item]
    spans = [_charge_days(warehouses[False], item["resources"]) for item in planted]
    results: dict[str, Any] = {}
    for detector in DETECTORS:
        settings = AnomalySettings(detector=detector)
        found = detect_anomalies(warehouses[False].costs(), settings).anomalies
        on_clean = detect_anomalies(warehouses[True].costs(), settings).anomalies
        true_detections = [a for a in found if any(_overlaps(a, span) for span in spans)]
        events_found = sum(any(_overlaps(a, span) for a in found) for span in spans)
        results[detector] = {
            "planted": len(spans),
            "planted_kinds": [item["kind"] for item in planted],
            "root_cause_first": sum(
                _root_cause_first(found, span, item["anomaly"]["root_cause"])
                for span, item in zip(spans, planted, strict=True)
            ),
            "planted_found": events_found,
            "detections": len(found),
            "true_detections": len(true_detections),
            "recall": events_found / len(spans) if spans else None,
            "precision": len(true_detections) / len(found) if found else None,
            "clean_company_detections": len(on_clean),
        }
    return results


def _charge_days(warehouse: Any, resources: list[str]) -> tuple[Any, Any]:
    costs = warehouse.costs()
    rows = costs.filter(costs.ResourceId.isin(resources))
    day = rows.ChargePeriodStart.date()
    record = rows.aggregate(first=day.min(), last=day.max()).to_pyarrow().to_pylist()[0]
    return record["first"], record["last"]


def _root_cause_first(found: list[Any], span: tuple[Any, Any], planted_cause: str) -> bool:
    """The planted anomaly is flagged from its first day with its planted cause ranked first."""
    for anomaly in found:
        if _overlaps(anomaly, span) and anomaly.first_seen == span[0] and anomaly.root_causes:
            top = anomaly.root_causes[0]
            if f"{top.dimension}={top.value}" == planted_cause:
                return True
    return False


def _overlaps(anomaly: Any, span: tuple[Any, Any]) -> bool:
    return bool(anomaly.first_seen <= span[1] and span[0] <= anomaly.ds)


def _score_json(score: Any) -> dict[str, Any]:
    return {
        "windows": score.windows,
        "windows_found": score.windows_found,
        "detections": score.detections,
        "true_detections": score.true_detections,
        "recall": round(score.recall, 3) if score.windows else None,
        "precision": round(score.precision, 3) if score.detections else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nab", type=Path, help="NAB checkout (data/ and labels/)")
    parser.add_argument("--demo", action="store_true", help="evaluate on the demo company")
    parser.add_argument("--demo-dir", type=Path, default=BENCH / "data" / "anomaly-demo")
    args = parser.parse_args()
    if not args.nab and not args.demo:
        parser.error("give --demo and/or --nab PATH")
    record: dict[str, Any] = {"benchmark": "anomaly_eval", "python": platform.python_version()}
    started = time.perf_counter()
    if args.demo:
        record["demo"] = demo_eval(args.demo_dir)
    if args.nab:
        record["nab_realKnownCause"] = nab_eval(args.nab)
    record["wall_s"] = round(time.perf_counter() - started, 1)
    record["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"anomaly_eval-{datetime.now(UTC).strftime('%Y-%m-%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
