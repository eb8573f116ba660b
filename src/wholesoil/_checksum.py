"""Content checksums of arrays, for checkpoints that must know their inputs did not change."""

from __future__ import annotations

import hashlib

import numpy as np


def sha256_arrays(*arrays: np.ndarray) -> str:
    """SHA-256 over each array's dtype, shape and bytes (C order), in the order given."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()
