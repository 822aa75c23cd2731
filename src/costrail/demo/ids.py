"""Deterministic identifiers and random streams: the same seed always names things the same way.

Each purpose ("aws/dev-box/alice", "gcp/l4-serving") gets its own random stream derived from
the seed and the purpose's name, so adding a resource never shifts the numbers of another one,
and the clean company (waste removed) keeps every shared resource's IDs and usage.
"""

from __future__ import annotations

import hashlib
import uuid

import numpy as np
import numpy.typing as npt
import pyarrow as pa

_BASE32 = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def stable_hash(text: str) -> int:
    """A 64-bit hash of `text` that is the same in every Python process (unlike `hash`)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


class IdFactory:
    """Random streams and IDs for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rng(self, purpose: str) -> np.random.Generator:
        """An independent generator for `purpose`; same (seed, purpose) → same draws."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, stable_hash(purpose)]))

    def hex(self, purpose: str, length: int) -> str:
        raw = self.rng("id/" + purpose).integers(0, 16, size=length)
        return "".join("0123456789abcdef"[int(v)] for v in raw)

    def digits(self, purpose: str, length: int) -> str:
        raw = self.rng("digits/" + purpose).integers(0, 10, size=length)
        first = str(int(self.rng("digits0/" + purpose).integers(1, 10)))
        return first + "".join(str(int(v)) for v in raw[1:])

    def uuid(self, purpose: str) -> str:
        raw = self.rng("uuid/" + purpose).bytes(16)
        return str(uuid.UUID(bytes=raw, version=4))

    def ec2_instance_id(self, purpose: str) -> str:
        return "i-0" + self.hex("ec2/" + purpose, 16)


def sku_code(text: str, length: int = 16) -> str:
    """A price-list-like SKU code derived from what the SKU prices (the same for every seed)."""
    digest = hashlib.sha256(("sku/" + text).encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(alphabet[b % 32] for b in digest[:length])


def _splitmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def line_item_ids(seed: int, partition: str, first_row: int, count: int) -> pa.StringArray:
    """`count` CUR-style `identity_line_item_id`s (52 lower-case base32 characters), vectorised.

    Unique within a partition with overwhelming probability, and reproducible from
    (seed, partition, row number).
    """
    base = np.uint64(stable_hash(f"{seed}/{partition}") & 0xFFFFFFFFFFFFFFFF)
    rows = np.arange(first_row, first_row + count, dtype=np.uint64)
    chars = np.empty((count, 52), dtype=np.uint8)
    for block in range(4):
        with np.errstate(over="ignore"):
            mixed = _splitmix64(rows * np.uint64(4) + np.uint64(block) + base)
        for position in range(13):
            shift = np.uint64((position * 5) % 60)
            chars[:, block * 13 + position] = _BASE32[
                ((mixed >> shift) & np.uint64(31)).astype(np.intp)
            ]
    as_bytes = pa.array(chars.view(f"S{52}").reshape(count), type=pa.binary(52))
    return as_bytes.cast(pa.string())  # type: ignore[no-any-return]
