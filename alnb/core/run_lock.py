"""One process at a time in a run directory (or ``alnb select``'s output folder): a lock file with a heartbeat.

The lock is ``<folder>/.alnb.lock``, a JSON record of its holder (pid, host, process start, start time, a
random token). It is made the way that is atomic on NFS as on a local disk: the record is written to a file
of its own, then hard-linked to the lock's name, which fails when the name exists (``open(2)``'s advice for
NFS, where ``flock`` may not reach the server). While held, a thread touches the lock every
``heartbeat`` seconds.

A lock is stale when its holder is gone: a pid that no longer runs on this host (or runs a newer process), or,
from any host, a heartbeat older than ``stale_after`` seconds. A stale lock is taken over with one line saying
whose it was and why it is stale. A live one refuses the newcomer in one line naming the holder and
how to wait (``--wait``), or is waited for.

The processes the holder starts (notebook kernels, their process pools and Ray workers) are its own: the
holder's token is in their environment (``ALNB_RUN_LOCK``), so a lock they take on the same folder is
the holder's, not a second one; workers never take it at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

LOCK_NAME = ".alnb.lock"
HOLDER_ENV = "ALNB_RUN_LOCK"  # tokens of the locks held by this process's ancestors, separated by ':'
HEARTBEAT_SECONDS = 20.0
STALE_AFTER_SECONDS = 180.0  # several heartbeats: NFS caches file times for up to a minute


class FolderBusy(RuntimeError):
    """The folder's lock is held by a live process; the message names it and how to wait."""


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    process_start: str | None
    started: str
    token: str

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host}, started {self.started}"


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot, from ``/proc``), to tell a reused pid from its first owner;
    None where ``/proc`` is absent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(holder: Holder) -> bool:
    if os.name == "nt":  # os.kill would signal it; there only the heartbeat tells a lock is stale
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    start = process_start(holder.pid)
    return start is None or holder.process_start is None or start == holder.process_start


def inherited_tokens() -> set[str]:
    return set(filter(None, os.environ.get(HOLDER_ENV, "").split(":")))


class FolderLock:
    """The lock of ``folder`` (``what`` names it in messages, e.g. "run directory"). Use as a context manager:
    ``with FolderLock(run_dir, wait=args.wait):``; it holds the lock for the block, heartbeat included, and
    sets ``ALNB_RUN_LOCK`` for the processes started inside it."""

    def __init__(
        self,
        folder: str | Path,
        what: str = "run directory",
        wait: bool = False,
        log=print,
        heartbeat: float = HEARTBEAT_SECONDS,
        stale_after: float = STALE_AFTER_SECONDS,
        poll: float = 2.0,
    ):
        self.folder, self.what, self.wait, self.log = Path(folder).resolve(), what, wait, log
        self.heartbeat, self.stale_after, self.poll = heartbeat, stale_after, poll
        self.path = self.folder / LOCK_NAME
        self.holder: Holder | None = None  # ours once acquired; None when an ancestor holds it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous_env: str | None = None

    # -- reading the lock
    def current(self) -> Holder | None:
        """The holder recorded in the lock file; None when there is none (or it vanished meanwhile)."""
        try:
            return Holder(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):  # not a lock alnb wrote: held by someone unknown
            return Holder(-1, "unknown", None, "unknown", "unreadable")

    def stale_reason(self, holder: Holder) -> str | None:
        """Why ``holder``'s lock is stale, or None while it holds."""
        if holder.host == socket.gethostname() and holder.pid > 0 and not _alive(holder):
            return f"pid {holder.pid} no longer runs on this host"
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        if age > self.stale_after:
            return f"its last heartbeat is {age:.0f} s old (more than {self.stale_after:.0f} s)"
        return None

    # -- taking and leaving it
    def _try_create(self) -> bool:
        record = Holder(
            os.getpid(),
            socket.gethostname(),
            process_start(os.getpid()),
            datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            uuid.uuid4().hex,
        )
        own = self.folder / f"{LOCK_NAME}.{record.token}"
        own.write_text(json.dumps(asdict(record)))
        try:
            os.link(own, self.path)
        except FileExistsError:
            return False
        except OSError:  # NFS may report a failure for a link it made: the link count tells
            if os.stat(own).st_nlink != 2:
                raise
        finally:
            own.unlink(missing_ok=True)
        self.holder = record
        return True

    def _take_over(self, stale: Holder, reason: str) -> None:
        """Move the stale lock aside (only one contender can) and check that the lock moved is the stale one;
        a fresh lock taken meanwhile by another contender is put back."""
        aside = self.folder / f"{LOCK_NAME}.stale.{uuid.uuid4().hex}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # another contender moved it first
        try:
            moved = Holder(**json.loads(aside.read_text()))
        except (OSError, ValueError, TypeError):
            moved = stale
        if moved.token != stale.token:
            with contextlib.suppress(OSError):
                os.link(aside, self.path)
        else:
            self.log(f"[alnb] took over the stale lock of the {self.what} {self.folder} ({stale.describe()}): {reason}")
        aside.unlink(missing_ok=True)

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        waited = False
        while True:
            holder = self.current()
            if holder is not None and holder.token in inherited_tokens():
                return  # held by the process that started this one: ours
            if holder is None and self._try_create():
                break
            if holder is None:
                continue
            reason = self.stale_reason(holder)
            if reason:
                self._take_over(holder, reason)
                continue
            if not self.wait:
                raise FolderBusy(
                    f"the {self.what} {self.folder} is in use by {holder.describe()} (lock {self.path}); wait for "
                    f"it with --wait, or rerun when it has finished"
                )
            if not waited:
                self.log(f"[alnb] waiting for the {self.what} {self.folder}, in use by {holder.describe()} ...")
                waited = True
            time.sleep(self.poll)
        self._previous_env = os.environ.get(HOLDER_ENV)
        os.environ[HOLDER_ENV] = ":".join(filter(None, [self._previous_env, self.holder.token]))
        self._thread = threading.Thread(target=self._beat, name="alnb-lock-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            if self.current() != self.holder:
                self.log(f"[alnb] warning: the lock of the {self.what} {self.folder} was taken over")
                return
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        if self.holder is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.current() == self.holder:
            self.path.unlink(missing_ok=True)
        if self._previous_env is None:
            os.environ.pop(HOLDER_ENV, None)
        else:
            os.environ[HOLDER_ENV] = self._previous_env
        self.holder = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
