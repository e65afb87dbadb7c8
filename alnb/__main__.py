"""Command line: ``python -m alnb study PARAMS`` runs and renders a study; ``check PARAMS`` only validates;
``estimate PARAMS`` prints what the study costs (trainings, image-steps, FLOPs, GPU-hours); ``replicate FOLDER``
runs every study of a replication folder and their synthesis; ``select FOLDER
--budget B`` ranks a folder's images for labeling (which to label first) and writes the ranking and a report.

A study locks its run directory and ``select`` its output folder: a second command on the same folder is refused
in one line (exit 75, "try again later") or, with ``--wait``, waits. A full disk stops either in one line (exit 1)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from alnb.core.config import ParamsError
from alnb.core.durable import DiskFull
from alnb.core.run_lock import FolderBusy, FolderLock
from alnb.data.checks import DatasetError
from alnb.data.datasets import DatasetNotFound

EXIT_BUSY = 75  # sysexits' EX_TEMPFAIL: the folder is in use, try again later


def select_notebooks(notebooks: tuple[str, ...], only: list[str] | None) -> tuple[str, ...]:
    """The notebooks named by ``--only`` (by number ``02`` or full name), in study order; all without it."""
    if not only:
        return notebooks
    for value in only:
        if not any(value in (name, name[:2]) for name in notebooks):
            raise ValueError(
                f"--only: unknown notebook {value!r}; valid: {', '.join(n[:2] for n in notebooks)} "
                f"({', '.join(notebooks)})"
            )
    return tuple(name for name in notebooks if name in only or name[:2] in only)


def _resume_command(args: argparse.Namespace) -> str:
    """The command that resumes the study: ``make study PARAMS=...`` under make, else ``python -m alnb ...``."""
    if os.environ.get("MAKELEVEL") and not args.only:
        return f"make study PARAMS={shlex.quote(args.params)}"
    only = f" --only {' '.join(args.only)}" if args.only else ""
    return f"python -m alnb study {shlex.quote(args.params)}{only}"


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (its subcommands and their arguments)."""
    parser = argparse.ArgumentParser(prog="alnb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    study = sub.add_parser("study", help="run the notebooks of a study and render its HTML reports")
    study.add_argument("params", help="a params YAML file, e.g. params/default.yaml")
    study.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (e.g. 02 03)")
    study.add_argument("--wait", action="store_true", help="wait while another study uses the run directory")
    check = sub.add_parser("check", help="validate a params file and exit")
    check.add_argument("params")
    estimate = sub.add_parser("estimate", help="print the trainings, image-steps, FLOPs and GPU-hours of a study")
    estimate.add_argument("params")
    estimate.add_argument(
        "--tflops", type=float, default=20.0, help="sustained TFLOP/s of one GPU for the GPU-hours (default 20)"
    )
    pilot = estimate.add_mutually_exclusive_group()
    pilot.add_argument(
        "--pilot-sd",
        type=float,
        metavar="SD",
        help="also print what each family of tests detects at 80%% power at this paired SD of AUBC gains",
    )
    pilot.add_argument(
        "--pilot-results", metavar="CSV", help="the same, with the pooled pool-level SD of an earlier run's results.csv"
    )
    replicate = sub.add_parser(
        "replicate", help="run every study of a replication folder, then its synthesis (notebook 08)"
    )
    replicate.add_argument("folder", help="a folder of params files, e.g. params/replication")
    replicate.add_argument("--data-root", help="point every study's data.root at this folder")
    select = sub.add_parser("select", help="rank the images of FOLDER for labeling (which to label first)")
    select.add_argument("folder", help="a folder (any tree) of PNG/JPEG images")
    select.add_argument("--budget", type=int, required=True, help="how many images to rank (the list's length)")
    select.add_argument(
        "--method", default=None, help="an initial-pool strategy that reads no labels (default: maxherding)"
    )
    select.add_argument(
        "--embeddings",
        help="your own vectors: FILE.npy with FILE.txt (paths) beside it, or a "
        ".csv / .parquet of path + vector (default: the --encoder's embeddings)",
    )
    select.add_argument(
        "--encoder",
        help="ssl (SimCLR trained on the folder, the default), timm:<model>, open_clip:<arch>/<pretrained tag> or "
        "torchvision:<model> (pretrained; pip install -e '.[encoders]')",
    )
    select.add_argument("--weights", metavar="FILE", help="a local checkpoint for --encoder (no network is used)")
    select.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="rank near-duplicates (near-identical embeddings) one by one instead of once per group",
    )
    select.add_argument("--labeled", help="a file listing images already labeled (paths relative to FOLDER)")
    select.add_argument("--out", help="output folder (default: selections/<folder name>/)")
    select.add_argument("--seed", type=int, default=0)
    select.add_argument(
        "--clusters",
        type=int,
        default=10,
        help="groups you expect: ProbCover's pseudo-labels and the report's clusters (default 10)",
    )
    select.add_argument(
        "--simulate",
        action="store_true",
        help="FOLDER has class subfolders: also run a small study of random against the candidates",
    )
    select.add_argument("--wait", action="store_true", help="wait while another selection uses the output folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _select(args) if args.command == "select" else _command(args)
    except FolderBusy as err:
        print(f"alnb: {err}", file=sys.stderr)
        return EXIT_BUSY
    except DiskFull as err:
        print(f"alnb: {err}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    """``check``, ``estimate`` and ``study``."""
    try:
        if args.command == "check":
            from alnb.run.validation import check_data_files, load_params, notes

            params = load_params(args.params)
            check_data_files(params)
            print(f"{args.params}: ok (study {params.study!r}, run directory {params.run_path})")
            for note in notes(params):
                print(f"note: {note}")
            return 0
        if args.command == "estimate":
            from alnb.run.estimate import report
            from alnb.run.validation import load_params

            params = load_params(args.params, data_on_disk=False)
            print(report(params, args.tflops))
            if args.pilot_sd is not None or args.pilot_results:
                from alnb.analysis.design import pilot_sd, power_report

                if args.pilot_sd is not None and not args.pilot_sd > 0:
                    print(f"alnb: --pilot-sd must be a positive number, got {args.pilot_sd}", file=sys.stderr)
                    return 2
                sd = args.pilot_sd if args.pilot_sd is not None else pilot_sd(args.pilot_results)
                print(power_report(params, sd))
            return 0
        from alnb.report.render import NOTEBOOKS, NotebookFailed, StudyInterrupted, run_study

        if args.command == "replicate":
            return _replicate(args)
        try:
            notebooks = select_notebooks(NOTEBOOKS, args.only)
        except ValueError as err:
            print(f"alnb: invalid argument: {err}", file=sys.stderr)
            return 2
        try:
            report_dir = run_study(args.params, notebooks, wait=args.wait)
        except NotebookFailed as err:
            print(f"alnb: {err}", file=sys.stderr)
            return 1
        except StudyInterrupted as err:
            print(f"alnb: {err}; resume with the same command: {_resume_command(args)}", file=sys.stderr)
            return 128 + err.signum
        print(f"[alnb] reports in {report_dir}")
        return 0
    except ParamsError as err:
        print(f"alnb: invalid params: {err}", file=sys.stderr)
        return 2
    except (DatasetError, DatasetNotFound) as err:
        print(f"alnb: invalid dataset: {err}", file=sys.stderr)
        return 2


def _replicate(args: argparse.Namespace) -> int:
    """``alnb replicate``: every study of the folder, then the synthesis; resumable like ``alnb study``."""
    from alnb.report.render import NotebookFailed, StudyInterrupted
    from alnb.report.replicate import run_replication

    try:
        page = run_replication(args.folder, args.data_root)
    except NotebookFailed as err:
        print(f"alnb: {err}", file=sys.stderr)
        return 1
    except StudyInterrupted as err:
        again = f"python -m alnb replicate {shlex.quote(args.folder)}"
        if os.environ.get("MAKELEVEL"):
            again = f"make replicate REPLICATION={shlex.quote(args.folder)}"
        if args.data_root:
            again += (
                f" DATA_ROOT={shlex.quote(args.data_root)}" if "make" in again else f" --data-root {args.data_root}"
            )
        print(f"alnb: {err}; resume with the same command: {again}", file=sys.stderr)
        return 128 + err.signum
    print(f"[alnb] synthesis in {page}")
    return 0


def _select(args: argparse.Namespace) -> int:
    """``alnb select``: check everything once (exit 2, nothing written), rank and write the files (training the encoder
    when needed, its expected time printed first), optionally simulate, then run and render notebook 07."""
    from alnb.select import SelectError, SelectRequest, check_request
    from alnb.select.encoders import DEFAULT_ENCODER
    from alnb.select.ranking import DEFAULT_METHOD

    request = SelectRequest(
        args.folder,
        args.budget,
        args.method or DEFAULT_METHOD,
        args.embeddings,
        args.labeled,
        args.out,
        args.seed,
        args.clusters,
        args.simulate,
        args.encoder or DEFAULT_ENCODER,
        args.weights,
        args.keep_duplicates,
    )
    try:
        checked = check_request(request)
    except SelectError as err:
        print(f"alnb select: {err}", file=sys.stderr)
        return 2
    with FolderLock(request.out_path, "output folder", args.wait):
        return _locked_select(request, checked)


def _locked_select(request, checked) -> int:
    """``alnb select`` once its request is checked and its output folder locked."""
    from alnb.report.render import NotebookFailed
    from alnb.select import SelectError, run_selection

    try:
        selection = run_selection(request, checked=checked)
    except SelectError as err:
        print(f"alnb select: {err}", file=sys.stderr)
        return 2
    if request.simulate:
        from alnb.select.simulate import run_simulation

        try:
            run_simulation(
                selection.listing.root,
                request.out_path,
                len(selection.ranking.order),
                len(selection.paths),
                request.method,
            )
        except (NotebookFailed, ParamsError, DatasetError) as err:
            print(f"alnb select --simulate: {err}", file=sys.stderr)
            return 1
    from alnb.select.notebook import run_select_notebook

    try:
        page = run_select_notebook(request)
    except NotebookFailed as err:
        print(f"alnb select: {err}", file=sys.stderr)
        return 1
    out = request.out_path
    print(
        f"[alnb select] {len(selection.ranking.order)} images ranked by {request.method}: label them in the order "
        f"of {out / 'to_label.txt'}; report {page}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
