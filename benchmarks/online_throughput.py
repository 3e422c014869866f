"""Online throughput: rows/s of ``partial_fit`` + ``predict`` for one series and for a panel, in one run.

Each series is a real ETTm1 channel (the seven channels at offsets of 1,500
rows, so that no two series are the same), standardised as a whole. A model
is fitted (one epoch) on the first 672 rows of every series, then streamed in
16-row chunks: one ``partial_fit`` (one gradient step) and one ``predict`` per
chunk, on one torch thread. Throughput = rows ingested (all series) / seconds
in those calls, after 5 warm-up chunks. The panel and the single series run in
the same process, one after the other, so their ratio compares like with like.

    python benchmarks/online_throughput.py                 # LRU defaults (window model) and context=None
    python benchmarks/online_throughput.py --profile       # plus a cProfile of the one-series call
    python benchmarks/online_throughput.py --quick         # fewer chunks
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEP, FIT_ROWS = 16, 672


def series(n: int) -> list[np.ndarray]:
    from tsrec.datasets import load_ett

    df = load_ett("ETTm1", download=False)
    z = ((df - df.mean()) / df.std()).to_numpy(np.float64)
    return [z[1500 * i % (len(z) - 20_000):, i % z.shape[1]][:20_000, None] for i in range(n)]


def model(kind: str):
    from tsrec import LRUForecaster

    common = dict(horizon=24, max_epochs=1, random_state=0, device="cpu", verbose=False)
    if kind == "defaults":
        return LRUForecaster(**common)
    # the stateful model of benchmarks/streaming.py (its recorded rows/s are for this one)
    return LRUForecaster(context=None, lr_schedule="constant", d_model=64, d_state=64, n_layers=2, chunk_length=96,
                         lr=1e-3, batch_size=32, stride=8, n_steps=1, **common)


def stream(kind: str, n_series: int, chunks: int, profile: bool = False) -> dict:
    data = series(n_series)
    f = model(kind).fit([s[:FIT_ROWS] for s in data] if n_series > 1 else data[0][:FIT_ROWS])

    def chunk(i):
        part = [s[FIT_ROWS + STEP * i : FIT_ROWS + STEP * (i + 1)] for s in data]
        return part if n_series > 1 else part[0]

    for i in range(5):
        f.partial_fit(chunk(i))
        f.predict()
    todo = [chunk(i) for i in range(5, 5 + chunks)]
    prof = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if prof:
        prof.enable()
    for c in todo:
        f.partial_fit(c)
        f.predict()
    if prof:
        prof.disable()
    sec = time.perf_counter() - t
    out = {"kind": kind, "series": n_series, "chunks": chunks, "ms_per_call": 1e3 * sec / chunks,
           "rows_per_s": n_series * STEP * chunks / sec, "context": f.frame_.context}
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
        out["profile"] = s.getvalue()
    return out


def machine() -> str:
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
            f"load average at start {os.getloadavg()[0]:.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--profile", action="store_true", help="also cProfile the one-series calls")
    p.add_argument("--kinds", nargs="*", default=["defaults", "stateful"])
    p.add_argument("--panel", type=int, default=100)
    p.add_argument("--results", default=None, help="append the figures to this file (e.g. benchmarks/RESULTS.md)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    header = (f"machine: {machine()}\ndate: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
              f"command: python {' '.join(sys.argv)}")
    print(header, flush=True)
    chunks = 40 if args.quick else 150
    rows, profiles = [], []
    for kind in args.kinds:
        one = stream(kind, 1, chunks * 2, profile=False)
        many = stream(kind, args.panel, chunks)
        rows.append((one, many))
        print(kind, one, many, flush=True)
        if args.profile:
            profiles.append((kind, stream(kind, 1, chunks, profile=True)["profile"]))
    lines = ["", f"## Online throughput (partial_fit + predict, 16-row chunks, one thread), "
             f"{dt.date.today().isoformat()}", "", "```", header, "```", "",
             "| model | context | 1 series rows/s | ms/call | "
             f"{args.panel} series rows/s | ms/call | panel / one |", "|---|---:|---:|---:|---:|---:|---:|"]
    for one, many in rows:
        lines.append(f"| LRU {one['kind']} | {one['context']} | {one['rows_per_s']:,.0f} | {one['ms_per_call']:.2f} | "
                     f"{many['rows_per_s']:,.0f} | {many['ms_per_call']:.1f} | "
                     f"{many['rows_per_s'] / one['rows_per_s']:.1f}x |")
    text = "\n".join(lines)
    print(text)
    for kind, prof in profiles:
        print(f"--- profile {kind}\n{prof}")
    if args.results:
        with open(args.results, "a") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
