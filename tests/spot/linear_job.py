"""A small deterministic training job for the kill-and-resume tests (run as a script).

Mini-batch SGD on a linear regression, in pure Python and NumPy. Every source of randomness a
real job has is here, so a resume that forgot any of it would end with different weights:
- the data order: each epoch's shuffle is drawn from a generator seeded by (seed, epoch), so
  the data position (epoch, batch index) is enough to re-create it;
- NumPy's global generator (gradient noise) and Python's `random` (learning-rate jitter), whose
  states travel in the checkpoint through `capture_rng_state` / `restore_rng_state`.
It checkpoints every `--every` steps; with `--watch-sigterm` it also stops at a SIGTERM, writes
a final checkpoint at the current step and exits 0, as a Kubernetes pod should.

    python -m tests.spot.linear_job STORE_URL OUT.npy --steps 300 --every 20 [--step-delay-s 0.005]
"""

from __future__ import annotations

import io
import json
import random
import sys
import time

import numpy as np

from costrail.spot import (
    PROVIDER_ENV,
    CheckpointStore,
    LoaderPosition,
    RngState,
    auto,
    capture_rng_state,
    restore_rng_state,
    watch,
)
from tests.spot.job_control import job_arguments, seed_global_generators

SEED = 20260301
SAMPLES, FEATURES, BATCH = 256, 8, 16
BATCHES_PER_EPOCH = SAMPLES // BATCH
BASE_LEARNING_RATE = 0.05


def dataset() -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(SEED)
    features = generator.normal(size=(SAMPLES, FEATURES))
    true_weights = generator.normal(size=FEATURES)
    targets = features @ true_weights + 0.1 * generator.normal(size=SAMPLES)
    return features, targets


def encode(weights: np.ndarray, step: int, position: LoaderPosition) -> bytes:
    state = {"step": step, "position": position.to_json(), "rng": capture_rng_state().to_json()}
    array = io.BytesIO()
    np.save(array, weights, allow_pickle=False)
    return json.dumps(state).encode() + b"\n" + array.getvalue()


def decode(payload: bytes) -> tuple[np.ndarray, int, LoaderPosition, RngState]:
    header, array = payload.split(b"\n", 1)
    state = json.loads(header)
    weights = np.load(io.BytesIO(array), allow_pickle=False)
    return (
        weights,
        int(state["step"]),
        LoaderPosition.from_json(state["position"]),
        RngState.from_json(state["rng"]),
    )


def main() -> int:
    args = job_arguments("--watch-sigterm")

    features, targets = dataset()
    store = CheckpointStore(args.store, keep_last=2)
    handle = (
        watch(auto(env={PROVIDER_ENV: "kubernetes"}), interval_s=0.005)
        if args.watch_sigterm
        else None
    )

    restored = store.restore_latest()
    if restored is None:
        seed_global_generators(SEED)
        weights, step, position = np.zeros(FEATURES), 0, LoaderPosition()
    else:
        weights, step, position, rng_state = decode(restored[1])
        restore_rng_state(rng_state)
        print(f"resumed from step {step}", flush=True)

    while step < args.steps:
        order = np.random.default_rng([SEED, position.epoch]).permutation(SAMPLES)
        batch = order[position.batch_index * BATCH : (position.batch_index + 1) * BATCH]
        error = features[batch] @ weights - targets[batch]
        gradient = features[batch].T @ error / BATCH + np.random.normal(0.0, 0.01, FEATURES)
        weights = weights - BASE_LEARNING_RATE * (1.0 + 0.1 * random.random()) * gradient
        step += 1
        position = position.after_batch(BATCHES_PER_EPOCH)
        if step % args.every == 0:
            store.save(encode(weights, step, position), step=step)
        if handle is not None and handle.final.is_set():
            store.save(encode(weights, step, position), step=step)
            print(f"preempted at step {step}", flush=True)
            return 0
        time.sleep(args.step_delay_s)

    np.save(args.out, weights, allow_pickle=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
