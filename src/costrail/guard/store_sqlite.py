"""Guard state in SQLite for one node: each reserve or settle is one `BEGIN IMMEDIATE`
transaction in WAL mode, so concurrent threads and processes on the host serialise on the
write lock and a check can never be separated from its write."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from costrail.guard.state import (
    BucketState,
    BudgetBucket,
    Decision,
    RateCharge,
    gcra_next,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget (
    bucket TEXT PRIMARY KEY, spent INTEGER NOT NULL, reserved INTEGER NOT NULL,
    forget_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reservation (
    id TEXT NOT NULL, bucket TEXT NOT NULL, amount INTEGER NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (id, bucket));
CREATE INDEX IF NOT EXISTS reservation_expiry ON reservation (bucket, expires_at);
CREATE TABLE IF NOT EXISTS rate (key TEXT PRIMARY KEY, tat REAL NOT NULL);
"""


class SqliteStore:
    """One connection shared by the process's threads (a lock orders them); other processes
    on the host are ordered by SQLite's own write lock (`busy_timeout` waits for it)."""

    #: transactions are short and local: the async engine runs them on the event loop
    inline = True

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def admit(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        reserve_nano: int,
        rates: list[RateCharge],
        now_s: float,
        lease_s: float,
    ) -> Decision:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                decision = self._admit(reservation_id, buckets, reserve_nano, rates, now_s, lease_s)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return decision

    def _admit(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        reserve_nano: int,
        rates: list[RateCharge],
        now_s: float,
        lease_s: float,
    ) -> Decision:
        for bucket in buckets:
            self._expire(bucket.key, now_s)
            spent, reserved = self._row(bucket.key)
            if spent + reserved + reserve_nano > bucket.limit_nano:
                return Decision(False, "budget", bucket.key)
        new_tats: list[tuple[str, float]] = []
        for charge in rates:
            allowed, new_tat_s, retry_s = gcra_next(self._tat(charge.key), now_s, charge)
            if not allowed:
                return Decision(False, "rate", charge.key, retry_s)
            new_tats.append((charge.key, new_tat_s))
        for bucket in buckets:
            self._db.execute(
                "INSERT INTO budget VALUES (?, 0, ?, ?) ON CONFLICT(bucket) DO UPDATE SET "
                "reserved = reserved + excluded.reserved",
                (bucket.key, reserve_nano, bucket.forget_at_s),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO reservation VALUES (?, ?, ?, ?)",
                (reservation_id, bucket.key, reserve_nano, now_s + lease_s),
            )
        self._db.executemany("INSERT OR REPLACE INTO rate VALUES (?, ?)", new_tats)
        return Decision(True)

    def settle(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        actual_nano: int,
        refunds: list[RateCharge],
        now_s: float,
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._settle(reservation_id, buckets, actual_nano, refunds)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _settle(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        actual_nano: int,
        refunds: list[RateCharge],
    ) -> None:
        for bucket in buckets:
            held = self._db.execute(
                "DELETE FROM reservation WHERE id = ? AND bucket = ? RETURNING amount",
                (reservation_id, bucket.key),
            ).fetchone()
            released = held[0] if held else 0
            self._db.execute(
                "INSERT INTO budget VALUES (?, ?, 0, ?) ON CONFLICT(bucket) DO UPDATE SET "
                "spent = spent + excluded.spent, reserved = reserved - ?",
                (bucket.key, actual_nano, bucket.forget_at_s, released),
            )
        for refund in refunds:
            interval_s = 60.0 / refund.limit_per_min
            self._db.execute(
                "UPDATE rate SET tat = tat - ? WHERE key = ?",
                (refund.amount * interval_s, refund.key),
            )

    def bucket(self, key: str, now_s: float) -> BucketState:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._expire(key, now_s)
            spent, reserved = self._row(key)
            self._db.execute("COMMIT")
            return BucketState(spent, reserved)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _expire(self, bucket_key: str, now_s: float) -> None:
        """Reservations past their lease stop holding budget (their caller is gone)."""
        expired = self._db.execute(
            "DELETE FROM reservation WHERE bucket = ? AND expires_at <= ? RETURNING amount",
            (bucket_key, now_s),
        ).fetchall()
        if expired:
            self._db.execute(
                "UPDATE budget SET reserved = reserved - ? WHERE bucket = ?",
                (sum(row[0] for row in expired), bucket_key),
            )

    def _row(self, bucket_key: str) -> tuple[int, int]:
        row = self._db.execute(
            "SELECT spent, reserved FROM budget WHERE bucket = ?", (bucket_key,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def _tat(self, key: str) -> float | None:
        row = self._db.execute("SELECT tat FROM rate WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else None
