"""The default study's wall time per notebook, read from the last ``make study`` (never run here).

``alnb.report.render.run_study`` writes ``runs/<study>/timings.json``; this turns it into table rows so that a
regression in any notebook shows in ``make bench``.

    python benchmarks/bench_study.py [params/default.yaml]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import ROOT, Row  # noqa: E402


def rows(params_path: str | Path = ROOT / "params" / "default.yaml") -> list[Row]:
    from alnb.run.validation import load_params

    params = load_params(params_path)
    path = params.run_path / "timings.json"
    if not path.is_file():
        return [
            Row(
                f"study {params.study}: not run yet",
                float("nan"),
                None,
                "s",
                f"run `make study` first; {path.relative_to(ROOT)} is read, the study is not run here",
            )
        ]
    timings = json.loads(path.read_text())
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(path.stat().st_mtime))
    table = [
        Row(f"study {params.study}: {name}", seconds, None, "s", f"last run {when}")
        for name, seconds in timings.items()
    ]
    table.append(
        Row(
            f"study {params.study}: all notebooks",
            sum(timings.values()),
            None,
            "s",
            f"{len(params.al.seeds)} seeds, {len(params.al.inits)} inits × {len(params.al.queries)} queries",
        )
    )
    return table


if __name__ == "__main__":
    for row in rows(*sys.argv[1:]):
        print(row)
