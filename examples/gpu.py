"""GPU: train and forecast on CUDA, with the CuPy scan kernels when CuPy is installed.

    python examples/gpu.py [--fast]   (or TSREC_EXAMPLE_FAST=1)

Without a CUDA GPU this prints a message and exits with status 0.
``device="cuda"`` puts the model and the training windows on the GPU;
``backend="cupy"`` runs the recurrences in tsrec's CuPy kernels
(``pip install tsrec[gpu]``); without CuPy the tuned torch path runs on the GPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch


def main() -> int:
    parser = argparse.ArgumentParser(description="tsrec on a GPU")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU found: this example needs one (device='cuda'); nothing to do.")
        return 0

    from tsrec import LRUForecaster
    from tsrec.datasets import load_ett
    from tsrec.scan import cupy_available

    backend = "cupy" if cupy_available() else "torch"
    if backend == "torch":
        print("CuPy not found (pip install tsrec[gpu]): using the torch scan on the GPU")
    df = load_ett("ETTh1")
    train, test = df.iloc[:8640], df.iloc[8640:8640 + 720]
    size = dict(d_model=32, d_state=32, n_layers=1, max_epochs=2, stride=8) if args.fast else \
        dict(d_model=128, d_state=128, n_layers=4, max_epochs=10, stride=1, batch_size=64)
    model = LRUForecaster(horizon=24, chunk_length=336, device="cuda", backend=backend, random_state=0,
                          verbose=not args.fast, **size)
    t0 = time.perf_counter()
    model.fit(train)
    torch.cuda.synchronize()
    print(f"{torch.cuda.get_device_name()}: trained {len(model.history_['loss'])} epochs in "
          f"{time.perf_counter() - t0:.1f} s with backend={backend!r}")
    print(f"rolling 24-hour forecasts over {len(test)} hours: MSE {-model.score(test):.3f}")
    print(model.predict().round(2).head())
    return 0


if __name__ == "__main__":
    sys.exit(main())
