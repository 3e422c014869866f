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
    python benchmarks/online_throughput.py --kinds defaults --no-panel --breakdown   # where one series' call goes
    python benchmarks/online_throughput.py --kinds stateful --no-panel --profile --profile-series 100   # the panel's
    python benchmarks/online_throughput.py --quick         # fewer chunks
    python benchmarks/online_throughput.py --kinds defaults ridge   # gradient steps vs online_update="ridge"
    python benchmarks/online_throughput.py --rss-steps 1000000 --kinds defaults   # memory of the 100-series panel
    python benchmarks/online_throughput.py --compare ../main --kinds stateful   # one series: this tree vs main
    python benchmarks/online_throughput.py --compare ../main --kinds defaults --no-panel --floor   # and its floor
    python benchmarks/online_throughput.py --compare ../main --compare-panel --kinds stateful   # panel/one: both trees
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import subprocess
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
    if kind == "ridge":  # the defaults with the online closed-form correction instead of gradient steps
        return LRUForecaster(online_update="ridge", **common)
    # the stateful model of benchmarks/streaming.py (its recorded rows/s are for this one)
    return LRUForecaster(context=None, lr_schedule="constant", d_model=64, d_state=64, n_layers=2, chunk_length=96,
                         lr=1e-3, batch_size=32, stride=8, n_steps=1, **common)


def fitted(kind: str, n_series: int):
    """A model fitted on the first rows of ``n_series`` series, and a function giving its i-th chunk."""
    data = series(n_series)
    f = model(kind).fit([s[:FIT_ROWS] for s in data] if n_series > 1 else data[0][:FIT_ROWS])

    def chunk(i):
        part = [s[FIT_ROWS + STEP * i : FIT_ROWS + STEP * (i + 1)] for s in data]
        return part if n_series > 1 else part[0]

    return f, chunk


def interleaved(kind: str, sizes: tuple[int, ...], chunks: int, block: int = 5) -> list[dict]:
    """Stream a model per panel size, alternating blocks of ``block`` calls between them (so that a change in
    the load of a shared machine hits all of them alike); rows/s from the median block of each."""
    runs = [fitted(kind, n) for n in sizes]
    for f, chunk in runs:  # warm-up
        for i in range(5):
            f.partial_fit(chunk(i))
            f.predict()
    blocks: list[list[float]] = [[] for _ in sizes]
    cpu: list[list[float]] = [[] for _ in sizes]
    for b in range(chunks // block):
        for k, (f, chunk) in enumerate(runs):
            todo = [chunk(5 + b * block + i) for i in range(block)]
            t, c0 = time.perf_counter(), time.process_time()
            for c in todo:
                f.partial_fit(c)
                f.predict()
            blocks[k].append((time.perf_counter() - t) / block)
            cpu[k].append((time.process_time() - c0) / block)
    out = []
    for n, (f, _), sec, cs in zip(sizes, runs, blocks, cpu):
        med, cmed = float(np.median(sec)), float(np.median(cs))
        out.append({"kind": kind, "series": n, "chunks": len(sec) * block, "ms_per_call": 1e3 * med,
                    "rows_per_s": n * STEP / med, "cpu_ms_per_call": 1e3 * cmed, "rows_per_cpu_s": n * STEP / cmed,
                    "context": f.frame_.context})
    return out


def profiled(kind: str, chunks: int, n_series: int = 1) -> str:
    """cProfile of ``partial_fit`` + ``predict`` calls on ``n_series`` series (cumulative time, top 30)."""
    f, chunk = fitted(kind, n_series)
    for i in range(5):
        f.partial_fit(chunk(i))
        f.predict()
    todo = [chunk(5 + i) for i in range(chunks)]
    prof = cProfile.Profile()
    prof.enable()
    for c in todo:
        f.partial_fit(c)
        f.predict()
    prof.disable()
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(30)
    return s.getvalue()


def breakdown(kind: str, chunks: int) -> dict[str, float]:
    """Where one series' ``partial_fit`` + ``predict`` goes: CPU ms per call of each part (window models; the
    parts inclusive, timed by wrapping the functions that do them, so the timers' own cost is in the totals)."""
    import collections
    import functools

    import torch

    import tsrec.estimators.base as base
    import tsrec.training as training
    from tsrec.nn.window import WindowModel

    spent: dict[str, float] = collections.defaultdict(float)
    where: list[str] = []
    patched = []

    def timed(owner, name: str, label: str | None) -> None:
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def wrapper(*a, **k):
            if label is None:
                where.append(name)
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[f"{name} (total)" if label is None else f"{where[-1] if where else '-'}: {label}"] += \
                    time.process_time() - t
                if label is None:
                    where.pop()

        patched.append((owner, name, fn))
        setattr(owner, name, wrapper)

    f, chunk = fitted(kind, 1)
    for owner, name, label in ((WindowModel, "network_forecast", "network forward"),
                               (WindowModel, "with_theta", "partner, ridge and naive shares"),
                               (training, "_backward_ok", "backward and clipping"),
                               (torch.optim.AdamW, "step", "AdamW step"),
                               (base.BaseForecaster, "partial_fit", None), (base.BaseForecaster, "predict", None)):
        timed(owner, name, label)
    try:
        for i in range(5):
            f.partial_fit(chunk(i))
            f.predict()
        spent.clear()
        c0 = time.process_time()
        for i in range(chunks):
            f.partial_fit(chunk(5 + i))
            f.predict()
        total = time.process_time() - c0
    finally:
        for owner, name, fn in reversed(patched):
            setattr(owner, name, fn)
    return {"call (with the timers)": 1e3 * total / chunks, **{k: 1e3 * v / chunks for k, v in sorted(spent.items())}}


def floor(kind: str, chunks: int, block: int = 5) -> dict:
    """One series' ``partial_fit`` + ``predict`` against the eager-PyTorch floor of the same work, in
    alternating blocks of ``block`` calls: one gradient step (``training.gradient_steps``) on the windows the
    update trains on and one no-grad forward of the newest window, without any tsrec bookkeeping (a copy of
    the model and its optimizer takes the floor's steps). Window models only."""
    import copy

    import torch

    from tsrec.estimators.stream import update_batch
    from tsrec.training import gradient_steps, make_optimizer

    f, chunk = fitted(kind, 1)
    for i in range(5):
        f.partial_fit(chunk(i))
        f.predict()
    model = copy.deepcopy(f.model_)
    cfg = f._train_config()
    opt = make_optimizer(model, cfg)
    opt.load_state_dict(f._optimizer.state_dict())
    seq = update_batch(f._stream, [chunk(5)], f.scaler_, f.frame_.context, f.horizon, f.batch_size, f.device_)[0]
    last = seq[-1:, -f.frame_.context :]

    def floor_call():
        gradient_steps(model, opt, seq, None, f.horizon, 1, cfg)
        with torch.no_grad():
            model(last)

    calls, floors = [], []
    for b in range(chunks // block):
        todo = [chunk(5 + b * block + i) for i in range(block)]
        c0 = time.process_time()
        for c in todo:
            f.partial_fit(c)
            f.predict()
        calls.append((time.process_time() - c0) / block)
        c0 = time.process_time()
        for _ in todo:
            floor_call()
        floors.append((time.process_time() - c0) / block)
    call, low = float(np.median(calls)), float(np.median(floors))
    return {"call_ms": 1e3 * call, "floor_ms": 1e3 * low, "windows": int(seq.shape[0]),
            "ratio": float(np.median(np.array(calls) / np.array(floors)))}


def single_json(kind: str, chunks: int) -> None:
    """Print one series' rows/s as JSON (run in a subprocess by --compare)."""
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    import tsrec

    print(json.dumps({**interleaved(kind, (1,), chunks)[0], "tsrec": tsrec.__file__}))


def pair_json(kind: str, chunks: int, n_series: int) -> None:
    """Print the panel's and one series' CPU ms per call and their ratio of rows per CPU second, measured in one
    process as :func:`interleaved` does, as JSON (run in a subprocess by --compare --compare-panel)."""
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    import tsrec

    one, many = interleaved(kind, (1, n_series), chunks)
    print(json.dumps({"one_ms": one["cpu_ms_per_call"], "panel_ms": many["cpu_ms_per_call"],
                      "ratio": many["rows_per_cpu_s"] / one["rows_per_cpu_s"], "tsrec": tsrec.__file__}))


def compare_panel(kind: str, other: str, chunks: int, rounds: int, n_series: int) -> tuple[list[dict], list[dict]]:
    """:func:`pair_json` with this checkout's tsrec and with ``other``'s, in alternating subprocesses."""
    here, there = [], []
    for _ in range(rounds):
        for path, acc in ((other, there), (str(ROOT), here)):
            code = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import online_throughput as o; "
                    f"sys.path.insert(0, {path!r}); o.pair_json({kind!r}, {chunks}, {n_series})")
            env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                                 cwd=path)
            acc.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return here, there


def compare(kind: str, other: str, chunks: int, rounds: int) -> tuple[list[float], list[float]]:
    """rows/s of one series with this checkout's tsrec and with ``other``'s, in alternating subprocesses."""
    here, there = [], []
    for _ in range(rounds):
        for path, acc in ((other, there), (str(ROOT), here)):
            code = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import online_throughput as o; "
                    f"sys.path.insert(0, {path!r}); o.single_json({kind!r}, {chunks})")  # that checkout's tsrec
            env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                                 cwd=path)
            acc.append(json.loads(res.stdout.strip().splitlines()[-1])["rows_per_cpu_s"])
    return here, there


def rss_run(kind: str, n_series: int, steps: int) -> dict:
    """Resident memory over ``steps`` rows per series of a panel (its series looped), 16-row chunks, one
    ``partial_fit`` + ``predict`` each; marks after 1,024 warm-up steps and at ten points after."""
    from tsrec.evaluation import rss_mb

    f, _ = fitted(kind, n_series)
    data = series(n_series)
    n = len(data[0])
    marks, warm, calls = [], 1024, (steps + STEP - 1) // STEP
    every = max(calls // 10, 1)
    t0 = None
    for i in range(calls):
        idx = np.arange(FIT_ROWS + STEP * i, FIT_ROWS + STEP * (i + 1)) % n
        f.partial_fit([s[idx] for s in data])
        f.predict()
        done = STEP * (i + 1)
        if done == warm:
            t0 = time.perf_counter()
            marks.append((done, rss_mb()["rss"]))
        elif done > warm and (i % every == 0 or i == calls - 1):
            marks.append((done, rss_mb()["rss"]))
    return {"kind": kind, "series": n_series, "steps": STEP * calls, "marks": marks,
            "growth_mb": marks[-1][1] - marks[0][1], "seconds": time.perf_counter() - t0}


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
    p.add_argument("--profile-series", type=int, default=1, help="with --profile: profile a panel of this many")
    p.add_argument("--kinds", nargs="*", default=["defaults", "stateful"], choices=["defaults", "stateful", "ridge"])
    p.add_argument("--panel", type=int, default=100)
    p.add_argument("--compare", default=None, help="another checkout (e.g. the main branch): one series' rows/s "
                   "with its tsrec and with this one, in alternating subprocesses")
    p.add_argument("--rss-steps", type=int, default=0, help="instead: resident memory of the panel streamed "
                   "this many steps per series (LRU defaults)")
    p.add_argument("--results", default=None, help="append the figures to this file (e.g. benchmarks/RESULTS.md)")
    p.add_argument("--compare-panel", action="store_true", help="with --compare: the panel / one ratio in each "
                   "checkout (alternating subprocesses) instead of one series' rows/s")
    p.add_argument("--no-panel", action="store_true", help="only one series (with --compare or --floor)")
    p.add_argument("--floor", action="store_true", help="also one series' call against the eager-PyTorch floor "
                   "of the same work (window models)")
    p.add_argument("--breakdown", action="store_true", help="also where one series' call goes, part by part "
                   "(window models)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    header = (f"machine: {machine()}\ndate: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
              f"command: python {' '.join(sys.argv)}")
    print(header, flush=True)
    if args.rss_steps:
        r = rss_run(args.kinds[0], args.panel, args.rss_steps)
        text = (f"\n## Memory of a {args.panel}-series panel stream (LRU {r['kind']}), "
                f"{dt.date.today().isoformat()}\n\n```\n{header}\n```\n\n{r['steps']:,} steps per series in 16-row "
                f"chunks (partial_fit + predict each, the series looped): RSS {r['marks'][0][1]:.1f} MB after 1,024 "
                f"steps, {r['marks'][-1][1]:.1f} MB at the end, growth {r['growth_mb']:+.1f} MB "
                f"in {r['seconds']:.0f} s. "
                "Marks (steps, MB): " + ", ".join(f"({a:,}, {b:.1f})" for a, b in r["marks"]))
        print(text)
        if args.results:
            with open(args.results, "a") as fh:
                fh.write(text + "\n")
        return
    chunks = 40 if args.quick else 150
    rows, profiles, compared, floors, pairs, parts = [], [], [], [], [], []
    for kind in args.kinds:
        if not args.no_panel:
            one, many = interleaved(kind, (1, args.panel), chunks)
            rows.append((one, many))
            print(kind, one, many, flush=True)
        if args.floor and kind == "defaults":
            floors.append((kind, floor(kind, chunks)))
            print(kind, "floor", floors[-1], flush=True)
        if args.breakdown and kind != "stateful":
            parts.append((kind, breakdown(kind, chunks)))
            print(kind, "breakdown", parts[-1], flush=True)
        if args.compare and args.compare_panel:
            pairs.append((kind, *compare_panel(kind, args.compare, chunks, 2 if args.quick else 3, args.panel)))
            print(kind, "compare-panel", pairs[-1], flush=True)
        elif args.compare:
            compared.append((kind, *compare(kind, args.compare, chunks, 2 if args.quick else 3)))
            print(kind, "compare", compared[-1], flush=True)
        if args.profile:
            profiles.append((kind, profiled(kind, chunks, args.profile_series)))
    lines = ["", f"## Online throughput (partial_fit + predict, 16-row chunks, one thread), "
             f"{dt.date.today().isoformat()}", "", "```", header, "```"]
    if rows:
        lines += ["", "Median of blocks of 5 calls, the panel's blocks alternating with the single series' in one "
                  "process. Rows per second of wall time, and per second of this process's CPU time (what a shared "
                  "machine's load inflates least).", "",
                  "| model | context | 1 series rows/s (per CPU s) | ms/call | "
                  f"{args.panel} series rows/s (per CPU s) | ms/call | panel / one (CPU) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
    for one, many in rows:
        lines.append(f"| LRU {one['kind']} | {one['context']} | "
                     f"{one['rows_per_s']:,.0f} ({one['rows_per_cpu_s']:,.0f}) | "
                     f"{one['ms_per_call']:.2f} | {many['rows_per_s']:,.0f} ({many['rows_per_cpu_s']:,.0f}) | "
                     f"{many['ms_per_call']:.1f} | {many['rows_per_s'] / one['rows_per_s']:.1f}x "
                     f"({many['rows_per_cpu_s'] / one['rows_per_cpu_s']:.1f}x) |")
    for kind, here, there in compared:
        lines.append(f"\nOne series, LRU {kind}, this checkout vs `{args.compare}` (alternating subprocesses, rows "
                     f"per CPU second, per round): {', '.join(f'{v:,.0f}' for v in here)} vs "
                     f"{', '.join(f'{v:,.0f}' for v in there)}; "
                     f"median ratio {np.median(here) / np.median(there):.2f}x")
    for kind, here, there in pairs:
        def fmt(runs):
            return ", ".join(f"{r['ratio']:.1f}x ({r['panel_ms']:.1f} / {r['one_ms']:.2f} ms)" for r in runs)

        def med(runs, key):
            return float(np.median([r[key] for r in runs]))
        lines.append(f"\n{args.panel} series / one series, LRU {kind}, this checkout vs `{args.compare}` "
                     f"(alternating subprocesses, each the panel's and one series' blocks alternating in one process; "
                     f"per CPU second, per round: ratio (panel / one CPU ms per call)): {fmt(here)} vs {fmt(there)}; "
                     f"median ratio {med(here, 'ratio'):.1f}x vs {med(there, 'ratio'):.1f}x, panel "
                     f"{med(here, 'panel_ms'):.1f} vs {med(there, 'panel_ms'):.1f} ms, one series "
                     f"{med(here, 'one_ms'):.2f} vs {med(there, 'one_ms'):.2f} ms")
    for kind, r in floors:
        lines.append(f"\nOne series, LRU {kind}: partial_fit + predict {r['call_ms']:.2f} ms per call (CPU) against "
                     f"{r['floor_ms']:.2f} ms for the eager-PyTorch floor of the same work (one gradient_steps on its "
                     f"{r['windows']} windows and one no-grad forward of the newest, alternating blocks): "
                     f"median ratio {r['ratio']:.2f}x")
    for kind, r in parts:
        lines.append(f"\nOne series, LRU {kind}, where a call goes (CPU ms per call; each part inclusive, timed by "
                     "wrapping the functions that do it, so the timers' own cost is in the totals): " +
                     "; ".join(f"{k} {v:.2f}" for k, v in r.items()))
    text = "\n".join(lines)
    print(text)
    for kind, prof in profiles:
        print(f"--- profile {kind}\n{prof}")
    if args.results:
        with open(args.results, "a") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
