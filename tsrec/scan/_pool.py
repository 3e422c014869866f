"""A small caching allocator for the large outputs of the CPU scan kernels.

Writing a fresh buffer of hundreds of MB costs the operating system one more
pass over it (page faults, zeroing); for a linear scan, which reads and
writes each element once, that is most of the time above the memory floor.
Like torch's CUDA caching allocator, :class:`BufferPool` keeps the memory
of large outputs once they are dropped and hands it out again. Each buffer
is handed out as one numpy array, which every tensor made from it keeps
alive (``torch.from_numpy`` holds a reference); the pool keeps only a weak
reference to that array, so a buffer is free exactly when no tensor (or
array) using it is left, and no memory in use is ever handed out twice.

Idle buffers are bounded by ``max_idle_bytes`` (least recently used ones are
released first); :func:`tsrec.scan.cpu.release_buffers` empties the pool.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict

import numpy as np

__all__ = ["BufferPool"]


class BufferPool:
    """Reusable byte buffers for CPU outputs of at least ``min_bytes``.

    Parameters
    ----------
    min_bytes : int
        Smaller requests are plain fresh allocations (numpy's own).
    max_idle_bytes : int
        Most bytes kept in buffers that no tensor uses.
    """

    def __init__(self, min_bytes: int = 1 << 22, max_idle_bytes: int = 1 << 30) -> None:
        self.min_bytes, self.max_idle_bytes = min_bytes, max_idle_bytes
        # id -> [flat uint8 buffer, weak reference to the array handed out (None: never)], oldest use first
        self._buffers: OrderedDict[int, list] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _idle(entry: list) -> bool:
        return entry[1] is None or entry[1]() is None

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised array; its memory comes from an idle buffer of the same size when there is one."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize  # (np.prod of a tuple costs more than a small scan)
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype=dtype)
        with self._lock:
            key = next((k for k, e in self._buffers.items() if e[0].nbytes == nbytes and self._idle(e)), None)
            if key is None:
                buf = np.empty(nbytes, dtype=np.uint8)  # numpy asks for transparent huge pages here
                key = id(buf)
                self._buffers[key] = [buf, None]
                self._trim(keep=key)
            self._buffers.move_to_end(key)
            entry = self._buffers[key]
            out = entry[0].view(dtype).reshape(shape)
            entry[1] = weakref.ref(out)
            return out

    def _trim(self, keep: int) -> None:
        idle = [(k, e[0].nbytes) for k, e in self._buffers.items() if k != keep and self._idle(e)]
        total = sum(n for _, n in idle)
        for k, n in idle:  # least recently used first
            if total <= self.max_idle_bytes:
                break
            total -= n
            del self._buffers[k]

    def clear(self) -> None:
        """Release every idle buffer (buffers in use stay until their tensors are gone)."""
        with self._lock:
            for k in [k for k, e in self._buffers.items() if self._idle(e)]:
                del self._buffers[k]

    def idle_bytes(self) -> int:
        """Bytes held in buffers that no tensor uses."""
        with self._lock:
            return sum(e[0].nbytes for e in self._buffers.values() if self._idle(e))
