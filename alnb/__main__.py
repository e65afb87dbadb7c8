"""Command line: ``python -m alnb study PARAMS`` runs and renders a study; ``check PARAMS`` only validates."""

from __future__ import annotations

import argparse
import sys

from alnb.config import ParamsError


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

            params = load_params(args.params)
            print(f"{args.params}: ok (study {params.study!r}, run directory {params.run_path})")
            return 0
        from alnb.report import NOTEBOOKS, run_study

        notebooks = NOTEBOOKS if not args.only else tuple(n for n in NOTEBOOKS if n[:2] in args.only)
        report_dir = run_study(args.params, notebooks)
        print(f"[alnb] reports in {report_dir}")
        return 0
    except ParamsError as err:
        print(f"alnb: invalid params: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
