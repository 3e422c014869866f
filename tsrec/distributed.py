"""Data-parallel training of one global model over several processes (``torch.distributed``).

Launch a script with ``torchrun --nproc_per_node=N script.py``; in it, call
:func:`setup` before ``fit`` and :func:`cleanup` at the end. While a process
group with more than one process is initialised, :func:`tsrec.training.fit_windows`
trains through :class:`torch.nn.parallel.DistributedDataParallel`:

- every process builds the same training windows (same data, same seed) and
  draws the same shuffled order each epoch; each global batch of
  ``batch_size`` windows is split across the processes (process ``r`` takes
  windows ``r, r + N, ...`` of it, like ``DistributedSampler``), and DDP
  averages the gradients, weighted so that the step equals the one-process
  step on the whole batch. So N processes train the same model as one, each
  computing 1/N of every batch;
- the training and validation losses are reduced over the processes, so early
  stopping, NaN recovery and progress bars agree everywhere;
- only the process with rank 0 shows a progress bar; save the model only
  there (:func:`is_main_process`).

Backends: ``"nccl"`` when CUDA is available (one GPU per process, chosen by
``LOCAL_RANK``), ``"gloo"`` on CPU.

This module imports only torch.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import Tensor, nn

__all__ = [
    "setup",
    "cleanup",
    "is_distributed",
    "rank",
    "world_size",
    "local_rank",
    "is_main_process",
    "wrap",
    "shard_batch",
    "shared_seed",
    "global_mean",
    "all_sum",
    "check_same",
]


def is_distributed() -> bool:
    """Whether a process group of more than one process is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes (1 without a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK`` set by torchrun; 0 otherwise)."""
    return int(os.environ.get("LOCAL_RANK", 0))


def is_main_process() -> bool:
    """True on rank 0 (and without a process group): the process that saves and prints."""
    return rank() == 0


def setup(backend: str | None = None) -> tuple[int, int]:
    """Initialise the process group from torchrun's environment; returns ``(rank, world_size)``.

    Without torchrun's variables (``RANK``, ``WORLD_SIZE``) this does nothing
    and returns ``(0, 1)``, so the same script also runs as one plain process.

    Parameters
    ----------
    backend : {"nccl", "gloo"}, optional
        Default: ``"nccl"`` when CUDA is available, else ``"gloo"``.
    """
    if not dist.is_available():
        return 0, 1
    if dist.is_initialized():
        return rank(), world_size()
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend=backend)
    return rank(), world_size()


def cleanup() -> None:
    """Destroy the process group, if one is initialised."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` (already on ``device``) inside DistributedDataParallel; rank 0's weights are broadcast."""
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return DistributedDataParallel(model, device_ids=[index], output_device=index)
    return DistributedDataParallel(model)


def shard_batch(idx: Tensor, rank_: int | None = None, world: int | None = None) -> tuple[Tensor, float] | None:
    """This process's part of a global batch and the weight of its loss.

    Process ``r`` of ``N`` takes ``idx[r::N]``. The weight ``len(part) * N /
    len(idx)`` makes DDP's average of the weighted losses' gradients equal to
    the gradient of the mean loss over the whole batch. Returns None for a
    batch smaller than ``N`` (skipped by every process alike).
    """
    rank_ = rank() if rank_ is None else rank_
    world = world_size() if world is None else world
    if len(idx) < world:
        return None
    part = idx[rank_::world]
    return part, len(part) * world / len(idx)


def shared_seed(seed: int | None) -> int:
    """One seed for every process: ``seed``, or a random one drawn on rank 0 and broadcast."""
    if seed is None:
        seed = int(torch.randint(2**31 - 1, ()).item())
    if not is_distributed():
        return int(seed)
    t = torch.tensor([seed], dtype=torch.int64, device=_collective_device())
    dist.broadcast(t, src=0)
    return int(t.item())


def all_sum(*values: float) -> list[float]:
    """Sums of the given numbers over every process (one collective)."""
    t = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    dist.all_reduce(t)
    return t.tolist()


def global_mean(loss: Tensor, weight: float) -> float:
    """The whole batch's mean loss from each process's mean ``loss`` and its :func:`shard_batch` weight."""
    return all_sum(float(loss.detach()) * weight)[0] / world_size()


def check_same(value: int, what: str) -> None:
    """Raise ValueError unless ``value`` is the same on every process (their loops must match step for step)."""
    t = torch.tensor([value, -value], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    hi, lo = int(t[0]), -int(t[1])
    if hi != lo:
        raise ValueError(f"the processes have different numbers of {what} ({lo} to {hi}): every process must "
                         f"call fit with the same data and parameters")
