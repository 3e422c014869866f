"""The Transformer window model's fit with its KV cache bounded by the segments (now) and unbounded (before).

A window model's attention body runs from an empty state over ``context / patch_len`` segments, yet each
layer used to build the zero-padded cache of ``max_cache`` (1024) or ``window`` steps that a stream would
carry, at every call, and throw it away. One epoch of the long-horizon recipe on a quarter of the ETTh1
training rows, alternated three times in one process:

    python benchmarks/transformer_cache.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from long_horizon import DEFAULTS, RECIPE, machine, scaled_splits  # noqa: E402

import tsrec  # noqa: E402
from tsrec.nn import transformer  # noqa: E402


def fit_seconds(rows, bounded: bool) -> float:
    saved = transformer.CausalSelfAttention.cache_size
    if not bounded:  # the cache size as it was: window, else max_cache
        transformer.CausalSelfAttention.cache_size = property(
            lambda self: self.window if self.window is not None else self.max_cache)
    try:
        est = tsrec.TransformerForecaster(horizon=96, validation_fraction=0.2, random_state=0, device="cpu",
                                          max_epochs=1, stride=1, **RECIPE, **DEFAULTS["TransformerForecaster"])
        t0 = time.perf_counter()
        est.fit(rows)
        return time.perf_counter() - t0
    finally:
        transformer.CausalSelfAttention.cache_size = saved


def main() -> None:
    torch.set_num_threads(1)
    z, b = scaled_splits("ETTh1")
    rows = z.iloc[: b.train_end // 4]
    times = {True: [], False: []}
    for _ in range(3):
        for bounded in (False, True):
            times[bounded].append(fit_seconds(rows, bounded))
    before, after = min(times[False]), min(times[True])
    print(f"{machine()}; one epoch, best of 3: unbounded cache {before:.1f} s, bounded {after:.1f} s, "
          f"ratio {before / after:.1f}x")


if __name__ == "__main__":
    main()
