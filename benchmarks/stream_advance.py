"""Seconds to advance a fitted stream by one long state-only chunk and read its calibration (issue 12's stream).

A fitted ``LRUForecaster(horizon=24)`` on ETTh1's OT column takes ``partial_fit(rows, update_params=False)`` of
500, 2,000 and 8,000 hourly rows, then ``predict_interval``, which scores the chunk's origins into the calibration.
``--tree`` imports tsrec from another checkout (a worktree of an earlier commit), so two versions are timed the
same way in one session::

    git worktree add /tmp/base <commit>
    python benchmarks/stream_advance.py --tree /tmp/base
    python benchmarks/stream_advance.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", default=None, help="a tsrec checkout to import instead of the installed one")
    ap.add_argument("--rows", type=int, nargs="+", default=[500, 2000, 8000])
    args = ap.parse_args()
    if args.tree:
        sys.path.insert(0, args.tree)
    import torch

    import tsrec
    from tsrec.datasets import load_ett

    torch.set_num_threads(1)
    frame = load_ett("ETTh1", download=False)[["OT"]]
    seconds = {}
    for rows in args.rows:
        f = tsrec.LRUForecaster(horizon=24, max_epochs=1, random_state=0).fit(frame.iloc[:2000])
        start = time.perf_counter()
        f.partial_fit(frame.iloc[2000 : 2000 + rows], update_params=False)
        f.predict_interval(coverage=0.8)
        seconds[rows] = round(time.perf_counter() - start, 3)
    print(json.dumps({"tsrec": tsrec.__file__, "seconds": seconds}))


if __name__ == "__main__":
    main()
