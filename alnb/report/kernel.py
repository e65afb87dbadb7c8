"""The Jupyter kernels that run a study's notebooks: this interpreter's, over Unix sockets, quiet, and one kernel
shared by every notebook of a study.

A new kernel per notebook would import torch and alnb six times, and every notebook that runs a grid would spawn
and warm up its trial workers again (:func:`alnb.run.executors.worker_pool`). :class:`StudyKernel` keeps both for
the next notebook; each notebook still starts with an empty namespace and execution count 1, as if alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

# jupyter_client interrupts a kernel before shutting it down, and an ipykernel that is between messages then logs
# "KeyboardInterrupt caught in kernel." to the command's stderr: noise after every notebook, worse after a failure
# whose one-line message it would bury. A failing cell or a dead kernel still reaches the user through papermill.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]
STARTUP_TIMEOUT = 120  # seconds for a kernel to start answering, on a loaded machine

# Run before each notebook in the shared kernel, without output or history: the names the previous notebook added go
# (modules and the trial workers stay; the names the kernel started with, ``__spec__`` among them, which spawning a
# worker reads, stay too), the notebook's own environment variables are set, and its first cell is [1].
_NEW_NOTEBOOK = """\
(lambda shell: (
    shell.displayhook.flush(),
    [shell.user_ns.pop(name)
     for name in set(shell.user_ns) - shell.__dict__.setdefault("alnb_fresh", set(shell.user_ns))],
    __import__("os").environ.update({variables!r}),
    shell.history_manager.reset(new_session=True),  # a new history session, whose line numbers start again
    setattr(shell, "execution_count", 1),
))(get_ipython())
"""


def use_this_interpreter() -> None:
    """Make the notebooks' ``python3`` kernel the interpreter running this process (the project's venv)."""
    bin_dir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


@contextlib.contextmanager
def unix_socket_options():
    """A kernel manager's options for a kernel reached over Unix sockets in a private temporary folder (removed
    afterwards, also when the study is stopped by a signal it can catch; after a SIGKILL the empty folder stays in
    the temporary directory), not over TCP ports on localhost: no port is opened and ipykernel does not warn about
    unencrypted TCP. Windows has no such sockets, and a socket path longer than the kernel's limit (about 100
    bytes, a long ``TMPDIR``) cannot be bound: both keep TCP."""
    if os.name != "posix":
        yield {}
        return
    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="alnb-kernel-") as folder:
        path = os.path.join(folder, "kernel")
        fits = len(os.fsencode(path)) + 2 <= 100  # "-<port>" is appended
        yield {"config": Config({"KernelManager": {"transport": "ipc", "ip": path}})} if fits else {}


@contextlib.contextmanager
def environment(variables: dict[str, str]):
    """Set environment variables for the kernels started inside the block, then restore them."""
    previous = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _ClientsKept(AsyncKernelManager):
    """A kernel manager that remembers the clients it made: papermill leaves open the channels of a client on a
    kernel it does not own, and :meth:`StudyKernel.close_clients` closes them after each notebook."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.made: list = []

    def client(self, **kwargs):
        made = super().client(**kwargs)
        self.made.append(made)
        return made


class StudyKernel:
    """One ``python3`` kernel of this interpreter for every notebook of a study, started in ``cwd`` with
    ``variables`` in its environment; a context manager that shuts it down (and its trial workers with it).

    Pass ``papermill_options()`` to ``papermill.execute_notebook`` after :meth:`new_notebook`.
    """

    def __init__(self, cwd: Path, variables: dict[str, str]):
        self.cwd, self.variables = Path(cwd), dict(variables)
        self._stack = contextlib.ExitStack()
        self.manager: _ClientsKept | None = None

    def __enter__(self) -> StudyKernel:
        use_this_interpreter()
        try:
            self.manager = _ClientsKept(kernel_name="python3", **self._stack.enter_context(unix_socket_options()))
            with environment(self.variables):
                run_sync(self.manager.start_kernel)(extra_arguments=QUIET_KERNEL, cwd=str(self.cwd))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.close_clients()
            if run_sync(self.manager.is_alive)():
                run_sync(self.manager.shutdown_kernel)(now=True)
            run_sync(self.manager.cleanup_resources)()
        finally:
            self._stack.close()

    def new_notebook(self, variables: dict[str, str]) -> None:
        """Remove what the previous notebook defined, set the next one's environment ``variables`` and restart the
        count at 1."""
        client = self.manager.client()
        client.start_channels()
        try:
            run_sync(client.wait_for_ready)(timeout=STARTUP_TIMEOUT)  # the kernel answers and its output reaches us
            reply = run_sync(client.execute_interactive)(
                _NEW_NOTEBOOK.format(variables=dict(variables)),
                silent=True,
                store_history=False,
                timeout=STARTUP_TIMEOUT,
            )
        finally:
            self.close_clients()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the study's kernel could not start the next notebook: {reply['content']}")

    def papermill_options(self) -> dict:
        """papermill runs the notebook in this kernel (and leaves it running)."""
        return {"km": self.manager}

    def close_clients(self) -> None:
        """Close the channels of every client made on this kernel so far."""
        for client in self.manager.made:
            client.stop_channels()
        self.manager.made.clear()
