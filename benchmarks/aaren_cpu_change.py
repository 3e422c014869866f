"""The torch Aaren scan of a tsrec tree, fwd and fwd+bwd at (64, 336, K=8, E=16) f32, median of 31.

Run it on two trees in one session to compare them (``git archive REV tsrec | tar -x -C DIR``):

    python benchmarks/aaren_cpu_change.py /path/to/old/tree
    python benchmarks/aaren_cpu_change.py .
"""

import statistics
import sys
import time

import torch

sys.path.insert(0, sys.argv[1])
import tsrec.scan as scan  # noqa: E402  (the tree given on the command line)

print(scan.__file__)
torch.set_num_threads(2)
g = torch.Generator().manual_seed(0)
B, L, K, E = 64, 336, 8, 16
s = torch.randn(B, L, K, generator=g, requires_grad=True)
v = torch.randn(B, L, K, E, generator=g, requires_grad=True)
go = torch.randn(B, L, K, E, generator=g)
def fb():
    o, _ = scan.aaren_scan(s, v, backend="torch")
    torch.autograd.grad(o, (s, v), go)
def fwd():
    with torch.no_grad():
        scan.aaren_scan(s, v, backend="torch")
for name, fn in (("fwd", fwd), ("fwd+bwd", fb)):
    fn()
    ts = []
    for _ in range(31):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    print(name, f"{statistics.median(ts) * 1e3:.2f} ms")
