"""Per-epoch checkpoints of a fit, so that an interrupted fit resumes where it stopped.

A checkpoint is a folder ``epoch-NNNNN`` holding ``weights.safetensors`` (the
weights and the best weights so far, plus the progress as JSON metadata) and
``optimizer.pt`` (optimizer state and RNG states, written by ``torch.save``
and read back with ``torch.load(weights_only=True)``, which unpickles no
code). It is written under a temporary name and renamed, so a process killed
mid-write leaves the previous checkpoint intact. :func:`tsrec.training.fit_windows`
writes and resumes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle  # only for its error type: checkpoints are read with torch.load(weights_only=True)
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "fit_id", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "tsrec-checkpoint"
CHECKPOINT_VERSION = "1"


def fit_id(model: nn.Module, train: Tensor, val: Tensor | None, fingerprint: str | None, seed: int | None) -> str:
    """A hash of what makes two fits the same: the caller's fingerprint, the model's shapes and the data."""
    h = hashlib.sha256()
    h.update((fingerprint or "").encode())
    h.update(json.dumps([seed, [[k, list(v.shape)] for k, v in model.state_dict().items()]]).encode())
    for t in (train, val):
        if t is not None:
            h.update(str(tuple(t.shape)).encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(directory: Path, progress: dict[str, Any], model: nn.Module, best_state: dict | None,
                     opt: torch.optim.Optimizer, gen: torch.Generator, device: torch.device,
                     extra: dict[str, Any] | None = None) -> None:
    """Write the checkpoint of ``progress['epoch']`` (``extra``: more training state of tensors, numbers and
    lists of them, kept beside the optimizer's), then remove the older ones."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{progress['epoch']:05d}"
    tmp = directory / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if best_state is not None:
        tensors.update({f"best.{k}": v.detach().cpu().contiguous().clone() for k, v in best_state.items()})
    meta = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, "progress": json.dumps(progress)}
    save_file(tensors, str(tmp / "weights.safetensors"), metadata=meta)
    rng = {"optimizer": opt.state_dict(), "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
           "epoch": progress["epoch"], **(extra or {})}
    if device.type == "cuda":
        rng["cuda_rng"] = torch.cuda.get_rng_state(device)
    torch.save(rng, tmp / "optimizer.pt")
    final = directory / name
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)  # atomic: a checkpoint folder is complete or absent
    for old in directory.glob("epoch-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(directory: Path, fit_id: str, device: torch.device) -> tuple[dict, dict, dict, dict | None] | None:
    """(progress, rng states, weights, best weights) of the newest checkpoint in ``directory``, or None."""
    from safetensors import SafetensorError
    from safetensors.torch import safe_open

    found = sorted(p for p in directory.glob("epoch-*") if (p / "weights.safetensors").is_file()
                   and (p / "optimizer.pt").is_file()) if directory.is_dir() else []
    if not found:
        return None
    path = found[-1]
    try:
        with safe_open(str(path / "weights.safetensors"), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        rng = torch.load(path / "optimizer.pt", map_location=device, weights_only=True)
        progress = json.loads(meta["progress"])
    except (SafetensorError, OSError, RuntimeError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as e:
        raise ValueError(
            f"the checkpoint {path} is damaged ({type(e).__name__}: {e}); remove it to start afresh") from None
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("format_version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path} is not a tsrec checkpoint of format version {CHECKPOINT_VERSION}")
    if progress.get("fit_id") != fit_id:
        raise ValueError(f"checkpoint_dir {directory} holds a checkpoint of another fit (other data, seed or "
                         f"hyperparameters); use an empty folder or remove it")
    if not isinstance(rng, dict) or rng.get("epoch") != progress.get("epoch"):
        raise ValueError(f"the checkpoint {path} is inconsistent (optimizer and weights of different epochs)")
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    best = {k[len("best."):]: v.to(device) for k, v in tensors.items() if k.startswith("best.")} or None
    return progress, rng, weights, best


