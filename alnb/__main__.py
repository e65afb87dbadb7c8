"""Command line: ``python -m alnb study PARAMS`` runs and renders a study; ``check PARAMS`` only validates."""

from __future__ import annotations

import argparse
import sys

from alnb.config import ParamsError
from alnb.data import DatasetNotFound
from alnb.datachecks import DatasetError


def select_notebooks(notebooks: tuple[str, ...], only: list[str] | None) -> tuple[str, ...]:
    """The notebooks named by ``--only`` (by number ``02`` or full name), in study order; all without it."""
    if not only:
        return notebooks
    for value in only:
        if not any(value in (name, name[:2]) for name in notebooks):
            raise ValueError(f"--only: unknown notebook {value!r}; valid: {', '.join(n[:2] for n in notebooks)} "
                              f"({', '.join(notebooks)})")
    return tuple(name for name in notebooks if name in only or name[:2] in only)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alnb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    study = sub.add_parser("study", help="run the notebooks of a study and render its HTML reports")
    study.add_argument("params", help="a params YAML file, e.g. params/default.yaml")
    study.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (e.g. 02 03)")
    check = sub.add_parser("check", help="validate a params file and exit")
    check.add_argument("params")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            from alnb.config import load_params
            from alnb.validation import check_data_files

            params = load_params(args.params)
            check_data_files(params)
            print(f"{args.params}: ok (study {params.study!r}, run directory {params.run_path})")
            return 0
        from alnb.report import NOTEBOOKS, NotebookFailed, run_study

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
