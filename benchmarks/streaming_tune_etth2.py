"""Check the streaming benchmark's lr and gradient steps per chunk on ETTh2 OT, a stream the benchmark
does not score (prequential MSE, the protocol of ``streaming.py``).

    python benchmarks/streaming_tune_etth2.py
"""

import concurrent.futures as cf
import multiprocessing as mp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

def run(kind: str, lr: float, n_steps: int) -> tuple:
    import torch

    torch.set_num_threads(1)
    import streaming as S

    from tsrec.evaluation import prequential
    z, w = S.load("ETTh2", None)
    est = S.make_model(kind, "ETTh1", False).set_params(lr=lr, n_steps=n_steps)
    r = prequential(est, z, horizon=S.HORIZON, warmup=w, step=S.STEP)
    return kind, lr, n_steps, r.mse, r.throughput

if __name__ == "__main__":
    jobs = [(k, lr, n) for k in ("LRUForecaster", "S4Forecaster") for lr in (1e-3, 3e-3) for n in (1, 2)]
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        for res in pool.map(run, *zip(*jobs)):
            print(*res, flush=True)
