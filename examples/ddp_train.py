"""Data-parallel training of one global forecaster with torch DistributedDataParallel.

Run with torchrun (gloo on CPU, nccl with one GPU per process)::

    torchrun --nproc_per_node=2 examples/ddp_train.py
    python examples/ddp_train.py              # the same script as one process

Every process loads the same panel (OT of ETTh1 and ETTh2: two series, one
global LRU model) and calls ``fit``; inside the process group the training
loop wraps the model in DDP and splits every batch of windows across the
processes, so N processes train the same model as one. Only rank 0 prints and
saves.

Small settings: ``--fast`` or ``TSREC_EXAMPLE_FAST=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from tsrec import LRUForecaster, distributed
from tsrec.datasets import load_ett


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", default=os.environ.get("TSREC_EXAMPLE_FAST") == "1")
    parser.add_argument("--out", default="ddp_lru.safetensors", help="model file (written by rank 0)")
    parser.add_argument("--json", help="also write the scores to this JSON file (rank 0)")
    args = parser.parse_args()

    rank, world = distributed.setup()  # no-op without torchrun
    n_rows, n_test = (1000, 200) if args.fast else (8640, 2880)  # the standard ETTh train/test borders
    panel = [load_ett(name)[["OT"]] for name in ("ETTh1", "ETTh2")]
    train = [s.iloc[:n_rows] for s in panel]
    test = [s.iloc[n_rows : n_rows + n_test] for s in panel]

    size = dict(d_model=16, d_state=16, n_layers=1, max_epochs=3, stride=4, chunk_length=48) if args.fast else \
        dict(d_model=64, d_state=64, n_layers=2, max_epochs=10, stride=1, chunk_length=192)
    model = LRUForecaster(horizon=24 if not args.fast else 6, batch_size=32, random_state=0, device="auto",
                          verbose=not args.fast, **size)
    t0 = time.perf_counter()
    model.fit(train)  # DDP inside when the process group is up
    seconds = time.perf_counter() - t0
    mse = -model.score(test)

    if distributed.is_main_process():
        print(f"{world} process(es): trained {len(model.history_['loss'])} epochs in {seconds:.1f} s; "
              f"test MSE of rolling forecasts {mse:.4f}")
        model.save(args.out)
        print(f"saved {args.out}")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"world_size": world, "mse": mse, "seconds": seconds,
                           "loss": model.history_["loss"], "val_loss": model.history_["val_loss"],
                           "forecast": [f["OT"].tolist() for f in model.predict()]}, fh)
    distributed.cleanup()


if __name__ == "__main__":
    main()
