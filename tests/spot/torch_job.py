"""The kill-and-resume job again, with PyTorch and `costrail.spot.torch_state` (run as a script).

A two-layer network with dropout (PyTorch's global generator), SGD with momentum (optimizer
state), a step learning-rate schedule (scheduler state), a per-epoch seeded shuffle (data
position), NumPy noise and Python jitter (their global generators).

    python -m tests.spot.torch_job STORE_URL OUT.pt --steps 120 --every 10 [--step-delay-s 0.01]
"""

from __future__ import annotations

import random
import sys
import time

import numpy as np
import torch

from costrail.spot import CheckpointStore, LoaderPosition
from costrail.spot.torch_state import restore_training_state, save_training_state
from tests.spot.job_control import job_arguments, seed_global_generators

SEED = 7
SAMPLES, FEATURES, BATCH = 128, 6, 8
BATCHES_PER_EPOCH = SAMPLES // BATCH


def main() -> int:
    args = job_arguments()
    torch.set_num_threads(1)

    data = torch.Generator().manual_seed(SEED)
    features = torch.randn(SAMPLES, FEATURES, generator=data)
    targets = features @ torch.randn(FEATURES, 1, generator=data)

    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 16),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(16, 1),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=25, gamma=0.5)
    store = CheckpointStore(args.store, keep_last=2)

    restored = restore_training_state(store, model=model, optimizer=optimizer, scheduler=scheduler)
    if restored is None:
        seed_global_generators(SEED)
        step, position = 0, LoaderPosition()
    else:
        step, position = restored.step, restored.position or LoaderPosition()
        print(f"resumed from step {step}", flush=True)

    model.train()
    while step < args.steps:
        order = torch.randperm(
            SAMPLES, generator=torch.Generator().manual_seed(SEED + position.epoch)
        )
        batch = order[position.batch_index * BATCH : (position.batch_index + 1) * BATCH]
        loss = torch.nn.functional.mse_loss(model(features[batch]), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        with torch.no_grad():
            jitter = 1.0 + 0.1 * random.random()
            noise = float(np.random.normal(0.0, 1e-3))
            for parameter in model.parameters():
                parameter.grad.mul_(jitter).add_(noise)
        optimizer.step()
        scheduler.step()
        step += 1
        position = position.after_batch(BATCHES_PER_EPOCH)
        if step % args.every == 0:
            save_training_state(
                store,
                step=step,
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                position=position,
            )
        time.sleep(args.step_delay_s)

    torch.save(model.state_dict(), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
