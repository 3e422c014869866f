#!/usr/bin/env bash
# On a machine with a CUDA GPU, torch (>= 2.11, CUDA build) and cupy-cuda13x installed (no
# internet needed): run the GPU tests of the scan cores, then the GPU benchmark.
#   bash benchmarks/gpu_run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=${PYTHON:-python}
"$PY" -c "import torch, cupy, tsrec.scan as s; print('torch', torch.__version__, 'cupy', cupy.__version__, 'gpu', torch.cuda.get_device_name() if torch.cuda.is_available() else None, 'cupy_available', s.cupy_available())"
"$PY" -m pytest -q -ra tests/test_scan_cupy.py tests/test_scan_cupy_emulated.py
"$PY" benchmarks/scan_gpu.py "$@"
