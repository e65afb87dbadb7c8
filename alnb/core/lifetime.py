"""The processes of a study end with it: a stop request reaches the notebook's kernel and its trial workers,
and no process outlives the one that started it.

The command line (``python -m alnb study``) runs each notebook in a kernel that jupyter_client starts in a
session of its own, so a Ctrl-C at the terminal reaches only the command. :func:`stop_on_signals` turns
SIGINT and SIGTERM into an interrupt of the kernel's process group (what Jupyter's "interrupt" does),
repeated until the notebook returns, so the running trial ends with ``KeyboardInterrupt`` wherever it is.
The kernel exits by itself when the command dies (ipykernel polls its parent); trial workers follow the
kernel through :func:`die_with_parent`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (its parent) ends, even by SIGKILL; ignore SIGINT.

    For worker processes: the parent decides when its trials stop (it terminates its workers when it is
    interrupted), so a Ctrl-C never leaves a worker's traceback on the terminal. Linux delivers SIGKILL
    on the parent's death (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread watches the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        threading.Event().wait(0.5)
    os._exit(1)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    proc = Path("/proc")
    if proc.is_dir():
        children = []
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
        return children
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def interrupt_kernels() -> None:
    """Send SIGINT to the process group of every kernel this process started (each leads its own session)."""
    for pid in child_pids(os.getpid()):
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGINT)


class StopRequest:
    """The stop signal received (None while running); set by :func:`stop_on_signals`."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._done = threading.Event()

    def _keep_interrupting(self) -> None:
        """A kernel ignores SIGINT between cells: interrupt until the notebook has returned."""
        while not self._done.is_set():
            interrupt_kernels()
            self._done.wait(1.0)


@contextlib.contextmanager
def stop_on_signals():
    """Within the block, SIGINT and SIGTERM interrupt the kernels this process runs instead of killing it.

    Yields a :class:`StopRequest`; the block checks ``request.signal`` and stops in its own way. Outside
    the main thread (where handlers cannot be installed) the block runs unchanged.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handle(signum, frame) -> None:
        if request.signal is None:
            request.signal = signum
            threading.Thread(target=request._keep_interrupting, name="alnb-stop", daemon=True).start()

    previous = {s: signal.signal(s, handle) for s in STOP_SIGNALS}
    try:
        yield request
    finally:
        request._done.set()
        for s, handler in previous.items():
            signal.signal(s, handler)
