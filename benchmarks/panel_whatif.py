"""What-if timing of the stateful panel / one series ratio: the call as it is, without its state advance, and also
without the calibration's forward (both skipped by patching them out: the forecasts are then wrong; the timing is
what this measures). Shows that removing a whole forward speeds up both calls but lowers the ratio, because one
series' call is mostly per-op overhead (see RESULTS.md, "Stateful panel / one series").

    python benchmarks/panel_whatif.py [--rounds 2] [--chunks 100]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import online_throughput as o  # noqa: E402  (puts this checkout's tsrec on the path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--chunks", type=int, default=100)
    args = p.parse_args()
    import torch

    from tsrec.estimators import base, stream

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    real_advance, real_scored = stream.advance_panel, base.BaseForecaster._scored

    def no_advance(model, scaler, rows, state, device):
        return state if state is not None else real_advance(model, scaler, rows, state, device)

    def no_scoring(self, pending, share=False):
        return self._calibration

    variants = {"as is": (real_advance, real_scored), "no state advance": (no_advance, real_scored),
                "no state advance, no calibration forward": (no_advance, no_scoring)}
    try:
        for r in range(args.rounds):
            for name, (advance, scored) in variants.items():
                stream.advance_panel, base.BaseForecaster._scored = advance, scored
                one, many = o.interleaved("stateful", (1, 100), args.chunks)
                print(f"round {r}, {name}: one series {one['cpu_ms_per_call']:.2f} ms, panel "
                      f"{many['cpu_ms_per_call']:.1f} ms per call (CPU), panel / one "
                      f"{many['rows_per_cpu_s'] / one['rows_per_cpu_s']:.1f}x", flush=True)
    finally:
        stream.advance_panel, base.BaseForecaster._scored = real_advance, real_scored


if __name__ == "__main__":
    main()
