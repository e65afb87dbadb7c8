"""Command line: ``python -m alnb study PARAMS`` runs and renders a study; ``check PARAMS`` only validates;
``estimate PARAMS`` prints what the study costs (trainings, image-steps, FLOPs, GPU-hours)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from alnb.core.config import ParamsError
from alnb.data.datasets import DatasetNotFound
from alnb.data.checks import DatasetError


def select_notebooks(notebooks: tuple[str, ...], only: list[str] | None) -> tuple[str, ...]:
    """The notebooks named by ``--only`` (by number ``02`` or full name), in study order; all without it."""
    if not only:
        return notebooks
    for value in only:
        if not any(value in (name, name[:2]) for name in notebooks):
            raise ValueError(f"--only: unknown notebook {value!r}; valid: {', '.join(n[:2] for n in notebooks)} "
                              f"({', '.join(notebooks)})")
    return tuple(name for name in notebooks if name in only or name[:2] in only)


def _resume_command(args: argparse.Namespace) -> str:
    """The command that resumes the study: ``make study PARAMS=...`` under make, else ``python -m alnb ...``."""
    if os.environ.get("MAKELEVEL") and not args.only:
        return f"make study PARAMS={shlex.quote(args.params)}"
    only = f" --only {' '.join(args.only)}" if args.only else ""
    return f"python -m alnb study {shlex.quote(args.params)}{only}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alnb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    study = sub.add_parser("study", help="run the notebooks of a study and render its HTML reports")
    study.add_argument("params", help="a params YAML file, e.g. params/default.yaml")
    study.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (e.g. 02 03)")
    check = sub.add_parser("check", help="validate a params file and exit")
    check.add_argument("params")
    estimate = sub.add_parser("estimate", help="print the trainings, image-steps, FLOPs and GPU-hours of a study")
    estimate.add_argument("params")
    estimate.add_argument("--tflops", type=float, default=20.0,
                          help="sustained TFLOP/s of one GPU for the GPU-hours (default 20)")
    pilot = estimate.add_mutually_exclusive_group()
    pilot.add_argument("--pilot-sd", type=float, metavar="SD",
                       help="also print what each family of tests detects at 80%% power at this paired SD of AUBC gains")
    pilot.add_argument("--pilot-results", metavar="CSV",
                       help="the same, with the pooled pool-level SD of an earlier run's results.csv")
    args = parser.parse_args(argv)
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
            from alnb.run.validation import load_params
            from alnb.run.estimate import report

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

        try:
            notebooks = select_notebooks(NOTEBOOKS, args.only)
        except ValueError as err:
            print(f"alnb: invalid argument: {err}", file=sys.stderr)
            return 2
        try:
            report_dir = run_study(args.params, notebooks)
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


if __name__ == "__main__":
    sys.exit(main())
