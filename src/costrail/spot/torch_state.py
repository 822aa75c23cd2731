"""PyTorch helper: save and restore a whole training state through a `CheckpointStore`.

Optional: PyTorch is imported only when these functions run, and a clear `MissingExtraError`
says what to install when it is absent. One checkpoint holds the model, optimizer and
scheduler state dicts, every RNG state (Python, NumPy, PyTorch CPU and CUDA), the data-loader
position and any extra tensors or plain values you pass. It is loaded with
`torch.load(weights_only=True)` by default, so a checkpoint cannot run code when read.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from costrail.spot.checkpoint import CheckpointInfo, CheckpointStore
from costrail.spot.errors import CheckpointError, MissingExtraError
from costrail.spot.position import LoaderPosition
from costrail.spot.rng import RngState, capture_rng_state, restore_rng_state

FORMAT = "costrail.torch-training/1"


class Stateful(Protocol):
    """Anything with PyTorch's `state_dict()` / `load_state_dict()` pair."""

    def state_dict(self) -> Mapping[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], /) -> Any: ...


@dataclass(frozen=True)
class RestoredTraining:
    """What `restore_training_state` found besides the objects it loaded in place."""

    info: CheckpointInfo
    step: int
    position: LoaderPosition | None
    extra: Mapping[str, Any] = field(default_factory=dict)


def save_training_state(
    store: CheckpointStore,
    *,
    step: int,
    model: Stateful,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    position: LoaderPosition | None = None,
    extra: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> CheckpointInfo:
    """Serialise the training state with `torch.save` and write it as one checkpoint.

    Call it after the optimizer (and scheduler) step of `step`, with the position of the next
    batch to train on. On several ranks, call it on one rank (the payload is the whole model
    only when each rank holds all of it; sharded FSDP states need their own format).
    """
    torch = _torch("save_training_state")
    document = {
        "format": FORMAT,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": capture_rng_state().to_json(),
        "position": position.to_json() if position is not None else None,
        "extra": dict(extra or {}),
    }
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return store.save(
        buffer.getbuffer(),
        step=step,
        metadata={**dict(metadata or {}), "format": FORMAT},
    )


def restore_training_state(
    store: CheckpointStore,
    *,
    model: Stateful,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    map_location: Any = "cpu",
    restore_rng: bool = True,
    weights_only: bool = True,
) -> RestoredTraining | None:
    """Load the newest verifying checkpoint into `model`/`optimizer`/`scheduler`; None if the
    store is empty (a fresh start).

    Build the model and optimizer exactly as in the first run (same parameters, same order)
    before calling. RNG states are restored last so nothing here consumes random numbers after.
    """
    torch = _torch("restore_training_state")
    found = store.restore_latest()
    if found is None:
        return None
    info, payload = found
    document = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=weights_only)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{info.data_url} was not written by save_training_state")
    model.load_state_dict(document["model"])
    _load_optional(optimizer, document["optimizer"], "optimizer", info)
    _load_optional(scheduler, document["scheduler"], "scheduler", info)
    if restore_rng:
        restore_rng_state(RngState.from_json(document["rng"]))
    position = document.get("position")
    return RestoredTraining(
        info=info,
        step=int(document["step"]),
        position=LoaderPosition.from_json(position) if position is not None else None,
        extra=document.get("extra") or {},
    )


def _load_optional(
    target: Stateful | None, state: Mapping[str, Any] | None, what: str, info: CheckpointInfo
) -> None:
    if target is None:
        return
    if state is None:
        raise CheckpointError(f"{info.data_url} holds no {what} state, but one was passed in")
    target.load_state_dict(state)


def _torch(purpose: str) -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise MissingExtraError("torch", purpose) from error
