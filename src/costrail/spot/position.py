"""Where a training loop is in its data: the epoch and the batches already consumed in it."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class LoaderPosition:
    """`epoch` (0-based) and `batch_index`: batches of that epoch already trained on.

    Resuming means: re-create the epoch's order exactly (seed the shuffle from the epoch, e.g.
    `DistributedSampler.set_epoch(epoch)` or `Generator(seed + epoch)`), then skip
    `batch_index` batches. Save the position *after* the optimizer step of that batch.
    """

    epoch: int = 0
    batch_index: int = 0

    def next_batch(self) -> LoaderPosition:
        return LoaderPosition(self.epoch, self.batch_index + 1)

    def next_epoch(self) -> LoaderPosition:
        return LoaderPosition(self.epoch + 1, 0)

    def after_batch(self, batches_per_epoch: int) -> LoaderPosition:
        """The position once one more batch is trained: the next batch, or the start of the next
        epoch after the epoch's last batch (for loops that count steps rather than epochs)."""
        following = self.next_batch()
        return following.next_epoch() if following.batch_index >= batches_per_epoch else following

    def to_json(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch_index": self.batch_index}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> LoaderPosition:
        return cls(epoch=int(document["epoch"]), batch_index=int(document["batch_index"]))


def skip_batches(batches: Iterable[T], count: int) -> Iterator[T]:
    """The batches after the first `count`.

    This still produces the skipped batches (a DataLoader loads them); for large datasets give
    the sampler a start index instead, so skipped samples are never read.
    """
    return itertools.islice(batches, count, None)
