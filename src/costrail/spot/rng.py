"""Capture and restore random-number-generator state (Python, NumPy, PyTorch CPU and CUDA).

A resumed run only matches an uninterrupted one if every generator continues from where it
stopped. The state is kept as plain JSON-ready values so any serialiser (json, torch.save with
`weights_only=True`, msgpack) can carry it. NumPy and PyTorch are looked up in `sys.modules`
at capture time: a library the program never imported cannot have advanced its generator, and
importing PyTorch just to ask would cost seconds.
"""

from __future__ import annotations

import base64
import importlib
import random
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RngState:
    """Generator states; a field is None when that library was not in use at capture."""

    python: tuple[Any, ...]
    numpy: tuple[Any, ...] | None = None
    torch_cpu: bytes | None = None
    torch_cuda: tuple[bytes, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain dict of lists, ints, floats and strings (bytes as base64)."""
        version, internal, gauss_next = self.python
        return {
            "python": [version, list(internal), gauss_next],
            "numpy": list(self.numpy) if self.numpy is not None else None,
            "torch_cpu": _b64(self.torch_cpu) if self.torch_cpu is not None else None,
            "torch_cuda": [_b64(s) for s in self.torch_cuda]
            if self.torch_cuda is not None
            else None,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> RngState:
        version, internal, gauss_next = document["python"]
        numpy_state = document.get("numpy")
        torch_cpu = document.get("torch_cpu")
        torch_cuda = document.get("torch_cuda")
        return cls(
            python=(version, tuple(internal), gauss_next),
            numpy=tuple(numpy_state) if numpy_state is not None else None,
            torch_cpu=base64.b64decode(torch_cpu) if torch_cpu is not None else None,
            torch_cuda=tuple(base64.b64decode(s) for s in torch_cuda)
            if torch_cuda is not None
            else None,
        )


def capture_rng_state() -> RngState:
    """The global generators' states now: `random`, `numpy.random` (legacy global), `torch`.

    Generators you own (`numpy.random.Generator`, `torch.Generator`) are yours to save:
    `generator.bit_generator.state` / `generator.get_state()`.
    """
    numpy_module = sys.modules.get("numpy")
    torch_module = sys.modules.get("torch")
    numpy_state = None
    if numpy_module is not None:
        name, keys, position, has_gauss, cached_gaussian = numpy_module.random.get_state()
        numpy_state = (
            str(name),
            [int(k) for k in keys],
            int(position),
            int(has_gauss),
            float(cached_gaussian),
        )
    torch_cpu = None
    torch_cuda = None
    if torch_module is not None:
        torch_cpu = bytes(torch_module.get_rng_state().numpy().tobytes())
        if torch_module.cuda.is_available() and torch_module.cuda.is_initialized():
            torch_cuda = tuple(
                bytes(state.numpy().tobytes()) for state in torch_module.cuda.get_rng_state_all()
            )
    return RngState(
        python=random.getstate(), numpy=numpy_state, torch_cpu=torch_cpu, torch_cuda=torch_cuda
    )


def restore_rng_state(state: RngState) -> None:
    """Put every captured generator back; imports NumPy/PyTorch if the state needs them."""
    random.setstate(state.python)
    if state.numpy is not None:
        numpy_module = importlib.import_module("numpy")
        name, keys, position, has_gauss, cached_gaussian = state.numpy
        numpy_module.random.set_state(
            (
                name,
                numpy_module.asarray(keys, dtype=numpy_module.uint32),
                position,
                has_gauss,
                cached_gaussian,
            )
        )
    if state.torch_cpu is not None or state.torch_cuda is not None:
        torch_module = importlib.import_module("torch")
        if state.torch_cpu is not None:
            torch_module.set_rng_state(_byte_tensor(torch_module, state.torch_cpu))
        if state.torch_cuda is not None and torch_module.cuda.is_available():
            torch_module.cuda.set_rng_state_all(
                [_byte_tensor(torch_module, s) for s in state.torch_cuda]
            )


def _byte_tensor(torch_module: Any, raw: bytes) -> Any:
    return torch_module.frombuffer(bytearray(raw), dtype=torch_module.uint8).clone()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
