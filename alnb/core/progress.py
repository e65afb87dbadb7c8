"""Progress of long loops, shown in the terminal and never in a rendered report.

Run interactively, a loop shows a tqdm bar. Run by ``alnb study`` (papermill), the kernel's output
becomes the report, so the loop instead writes its state to the file named by ``ALNB_PROGRESS_FILE``
and the driver process draws the bar in its own terminal (:class:`TerminalProgress`).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from pathlib import Path

PROGRESS_ENV = "ALNB_PROGRESS_FILE"


def unit_of(desc: str) -> str:
    """The unit of a bar counting ``desc`` ("trials" → "trial", "self-supervised models" → "model")."""
    return desc.split()[-1].rstrip("s") or "step"


class _FileProgress:
    """Writes ``{"id", "desc", "done", "total"}`` to ``path`` after every step (replace, never append)."""

    def __init__(self, path: Path, total: int, desc: str):
        self.path, self.state = path, {"id": uuid.uuid4().hex, "desc": desc, "done": 0, "total": total}
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.state))
            os.replace(tmp, self.path)
        except OSError:  # progress is a courtesy: it never stops a study
            pass

    def update(self, n: int = 1) -> None:
        self.state["done"] += n
        self._write()

    def close(self) -> None:
        pass


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int, desc: str, enabled: bool = True):
    """A bar with ``update(n)``: to the driver's terminal under ``alnb study``, else tqdm, else nothing."""
    target = os.environ.get(PROGRESS_ENV)
    if not enabled or total == 0:
        bar = _Silent()
    elif target:
        bar = _FileProgress(Path(target), total, desc)
    else:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit_of(desc))
    try:
        yield bar
    finally:
        bar.close()


class TerminalProgress:
    """In the driver: polls a progress file written by the kernel and draws it as a tqdm bar (rate, ETA)."""

    def __init__(self, path: Path, label: str, interval: float = 0.5):
        self.path, self.label, self.interval = Path(path), label, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._bar, self._id = None, None

    def __enter__(self) -> TerminalProgress:
        self.path.unlink(missing_ok=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._refresh()
        if self._bar is not None:
            self._bar.close()
        self.path.unlink(missing_ok=True)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._refresh()

    def _refresh(self) -> None:
        from tqdm import tqdm

        try:
            state = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if state["id"] != self._id:
            if self._bar is not None:
                self._bar.close()
            self._id = state["id"]
            self._bar = tqdm(
                total=state["total"],
                desc=f"{self.label} {state['desc']}",
                unit=unit_of(state["desc"]),
                dynamic_ncols=True,
            )
        if state["done"] > self._bar.n:
            self._bar.update(state["done"] - self._bar.n)
