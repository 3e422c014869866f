#!/usr/bin/env bash
# On a machine with a CUDA GPU, torch (>= 2.11, CUDA build) and cupy-cuda13x[ctk] installed (no
# internet needed): check that CuPy can compile and run a kernel, run the GPU tests of the scan
# cores, then the GPU benchmark.
#   bash benchmarks/gpu_run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=${PYTHON:-python}

# CuPy compiles the kernels at run time (NVRTC and the CUDA headers; cudadevrt for the cooperative
# LEM kernels). is_available() says nothing about that: compile and run one small kernel, plain and
# cooperative, and stop here, loudly, when either fails.
if ! "$PY" - <<'PYEOF'
import cupy as cp
import torch

import tsrec.scan as s

print("torch", torch.__version__, "cupy", cp.__version__,
      "gpu", torch.cuda.get_device_name() if torch.cuda.is_available() else None,
      "cupy_available", s.cupy_available())
src = r"""extern "C" __global__ void add_one(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1.0f;
}"""
for coop in (False, True):
    kernel = cp.RawModule(code=src, options=("-std=c++17",), enable_cooperative_groups=coop).get_function("add_one")
    x = cp.arange(256, dtype=cp.float32)
    kernel((2,), (128,), (x, cp.int32(256)))
    cp.cuda.Device().synchronize()
    assert bool((x == cp.arange(256, dtype=cp.float32) + 1).all()), f"wrong result (cooperative={coop})"
print("CuPy compiled and ran a kernel, plain and cooperative")
PYEOF
then
    echo "gpu_run.sh: FAILED: CuPy cannot compile or run a CUDA kernel (error above). It needs a CUDA GPU," \
        "and the CUDA headers, NVRTC and cudadevrt at run time: pip install 'cupy-cuda13x[ctk]>=13'" \
        "(or tsrec[gpu]). Not running the GPU tests." >&2
    exit 1
fi
"$PY" -m pytest -q -ra tests/scan/test_cupy.py tests/scan/test_cupy_emulated.py
"$PY" benchmarks/scan_gpu.py "$@"
