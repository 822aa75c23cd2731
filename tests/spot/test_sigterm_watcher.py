"""SIGTERM watcher: the signal becomes a notice with a grace deadline instead of an exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from costrail.spot import NoticeKind, SigtermWatcher


def test_sigterm_becomes_a_notice_due_after_the_grace_period() -> None:
    with SigtermWatcher(grace_period_s=25.0) as watcher:
        assert watcher.check() is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert watcher.received.wait(2.0)
        notice = watcher.check()

    assert notice is not None
    assert (notice.provider, notice.kind, notice.raw) == ("sigterm", NoticeKind.SIGNAL, "SIGTERM")
    assert notice.deadline is not None
    assert (notice.deadline - notice.received_at).total_seconds() == 25.0


def test_a_second_sigterm_keeps_the_first_deadline() -> None:
    with SigtermWatcher() as watcher:
        os.kill(os.getpid(), signal.SIGTERM)
        watcher.received.wait(2.0)
        first = watcher.check()
        os.kill(os.getpid(), signal.SIGTERM)

        assert watcher.check() is first


def test_leaving_the_block_restores_the_previous_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)

    with SigtermWatcher():
        assert signal.getsignal(signal.SIGTERM) is not before

    assert signal.getsignal(signal.SIGTERM) is before


def test_a_process_that_watches_sigterm_survives_it_and_exits_on_its_own() -> None:
    child = textwrap.dedent(
        """
        import os, signal
        from costrail.spot import SigtermWatcher
        watcher = SigtermWatcher(grace_period_s=30)
        os.kill(os.getpid(), signal.SIGTERM)
        watcher.received.wait(5)
        notice = watcher.check()
        print(notice.kind.value, notice.provider)
        """
    )

    finished = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=30, check=False
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["signal", "sigterm"]
