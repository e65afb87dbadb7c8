"""Run a study's notebooks headlessly with papermill and render each to HTML, plus an index page."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from pathlib import Path

from alnb.analysis.plots import FIGURES_ENV
from alnb.core.config import NOTEBOOK_ENV, PROJECT_ROOT_ENV
from alnb.core.durable import NO_SPACE, DiskFull, disk_full_message
from alnb.core.lifetime import stop_on_signals
from alnb.core.progress import PROGRESS_ENV, TerminalProgress
from alnb.core.run_lock import FolderLock
from alnb.report.frontpage import load_timings, write_index
from alnb.report.kernel import QUIET_KERNEL, StudyKernel, environment, unix_socket_options, use_this_interpreter
from alnb.run.store import atomic_write_text
from alnb.run.validation import load_params

NOTEBOOKS = (
    "01_pretext_training",
    "02_initial_pools",
    "03_al_runs",
    "04_ablations",
    "05_imbalance",
    "06_visualization",
)


def render_html(notebook_path: Path, html_path: Path, shown_cell: str | None = None) -> None:
    """Render an executed notebook to HTML for readers (code cells folded: :mod:`alnb.report.html`); its
    injected parameters cell shows ``shown_cell`` (paths relative to the project, or the files' names) instead
    of the paths on the machine that ran it."""
    import nbformat

    from alnb.report.html import report_exporter

    notebook = nbformat.read(notebook_path, as_version=4)
    if shown_cell is not None:
        for cell in notebook.cells:
            if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                cell.source = shown_cell
    body, _ = report_exporter().from_notebook_node(notebook)
    atomic_write_text(html_path, body)


class NotebookFailed(RuntimeError):
    """A notebook raised: the message names it, the failing cell's first line, the error and the rendered HTML."""


class StudyInterrupted(RuntimeError):
    """SIGINT or SIGTERM stopped the study: the running trials ended, the finished ones stay recorded."""

    def __init__(self, signum: int, notebook: str):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name} during {notebook}; finished trials are kept")


def _failure_message(name: str, err, html_path: Path) -> str:
    """Two lines: the notebook, the failing cell's first line and the error; then where the traceback is."""
    first_line = next((line.strip() for line in (err.source or "").splitlines() if line.strip()), "")
    evalue = next((line.strip() for line in str(err.evalue).splitlines() if line.strip()), "")
    return (
        f"{name} failed in cell [{err.exec_count}] `{first_line}`: {err.ename}: {evalue}\nfull traceback: {html_path}"
    )


def injected_cell(parameters: dict, command: str = "alnb study") -> str:
    """The parameters cell as a report shows it: ``parameters`` as already made presentable by the caller."""
    lines = [f"# Parameters injected by {command}"] + [f"{name} = {value!r}" for name, value in parameters.items()]
    return "\n".join(lines) + "\n"


def execute_notebook(
    source: Path,
    executed: Path,
    html_path: Path,
    parameters: dict,
    cwd: Path,
    variables: dict[str, str],
    shown_cell: str,
    kernel: StudyKernel | None = None,
) -> None:
    """Run the notebook ``source`` with papermill into ``executed``, then render ``html_path`` showing
    ``shown_cell`` as its parameters, also when it fails. It runs in ``kernel`` (a study's), else in a new kernel
    of this interpreter over Unix sockets in ``cwd``; either way with the environment ``variables`` set. A failing
    cell raises :class:`NotebookFailed` naming the cell and the page."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            if kernel is not None:
                kernel.new_notebook(variables)
                stack.callback(kernel.close_clients)
                options = kernel.papermill_options()
            else:
                use_this_interpreter()
                stack.enter_context(environment(variables))
                options = stack.enter_context(unix_socket_options())
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                cwd=str(cwd),
                kernel_name="python3",
                progress_bar=False,
                extra_arguments=QUIET_KERNEL,
                **options,
            )
    except PapermillExecutionError as err:
        if err.ename == DiskFull.__name__:  # one line naming the disk, not a notebook's failure
            raise DiskFull(err.evalue) from None
        raise NotebookFailed(_failure_message(Path(source).stem, err, html_path)) from None
    except OSError as err:  # papermill saves the executed notebook after every cell
        if err.errno in NO_SPACE:
            raise DiskFull(disk_full_message(executed, err, None)) from None
        raise
    finally:
        if executed.is_file():
            render_html(executed, html_path, shown_cell)


def run_study(
    params_path: str | Path,
    notebooks: tuple[str, ...] = NOTEBOOKS,
    log=print,
    report_dir: Path | None = None,
    wait: bool = False,
) -> Path:
    """Execute ``notebooks`` in order with ``params_path``; write ``reports/<study>/NN_name.html`` and an index.

    Returns the report folder. The params and the dataset's files are checked before anything runs. A
    failing notebook is still rendered (its traceback visible there), then :class:`NotebookFailed` says
    which cell failed and where that page is; the trials that finished stay recorded. SIGINT (Ctrl-C) or
    SIGTERM interrupts the running notebook (its trials end, workers included) and raises
    :class:`StudyInterrupted`; a rerun resumes, skipping the finished trials.

    The run directory is locked for the study (:mod:`alnb.core.run_lock`): one in use by another study
    raises :class:`~alnb.core.run_lock.FolderBusy`, or is waited for (``wait``). The notebooks run one after
    the other in one kernel (:class:`~alnb.report.kernel.StudyKernel`), which gets the project root resolved here
    (``ALNB_PROJECT_ROOT``), so it resolves the same absolute run directory whatever its current folder.
    """
    from alnb.run.validation import check_data_files

    params_path = Path(params_path).resolve()
    params = load_params(params_path)  # fails fast, before any compute
    check_data_files(params)
    root = Path(params.project_root)
    nb_dir = root / "notebooks"
    out_dir = params.run_path / "notebooks"
    report_dir = Path(report_dir) if report_dir else root / "reports" / params.study
    progress_file = params.run_path / ".progress.json"  # the kernels report progress here (alnb.core.progress)
    shown_cell = injected_cell(
        {"params_path": str(params_path.relative_to(root)) if params_path.is_relative_to(root) else params_path.name}
    )  # reports show no absolute path of the machine
    shared = {PROGRESS_ENV: str(progress_file), FIGURES_ENV: str(report_dir / "figures"), PROJECT_ROOT_ENV: str(root)}
    with (
        FolderLock(params.run_path, "run directory", wait, log),
        stop_on_signals() as stop,
        StudyKernel(nb_dir, shared) as kernel,  # started holding the lock: its token is in the kernel's environment
    ):
        timings = load_timings(params.run_path)  # read once the lock is held: a study waited for has added its own
        for name in notebooks:
            if stop.signal is not None:
                raise StudyInterrupted(stop.signal, name)
            log(f"[alnb] running {name} ...")
            start = time.perf_counter()
            try:
                with TerminalProgress(progress_file, name[:2]):
                    execute_notebook(
                        nb_dir / f"{name}.ipynb",
                        out_dir / f"{name}.ipynb",
                        report_dir / f"{name}.html",
                        {"params_path": str(params_path)},
                        nb_dir,
                        {**shared, NOTEBOOK_ENV: name},
                        shown_cell,
                        kernel,
                    )
            except NotebookFailed:
                if stop.signal is not None:
                    raise StudyInterrupted(stop.signal, name) from None
                raise
            finally:
                timings[name] = time.perf_counter() - start
                atomic_write_text(params.run_path / "timings.json", json.dumps(timings, indent=1))
            if stop.signal is not None:
                raise StudyInterrupted(stop.signal, name)
            log(f"[alnb] {name} done in {timings[name]:.1f} s -> {report_dir / (name + '.html')}")
        write_index(params, report_dir, notebooks=NOTEBOOKS)
    return report_dir
