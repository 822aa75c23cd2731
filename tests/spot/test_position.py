"""Data position bookkeeping: where a resumed loop re-enters its data."""

from __future__ import annotations

from costrail.spot import LoaderPosition


def test_after_a_batch_inside_the_epoch_the_batch_index_advances() -> None:
    assert LoaderPosition(2, 5).after_batch(batches_per_epoch=16) == LoaderPosition(2, 6)


def test_after_the_last_batch_of_an_epoch_the_next_epoch_starts() -> None:
    assert LoaderPosition(2, 15).after_batch(batches_per_epoch=16) == LoaderPosition(3, 0)
