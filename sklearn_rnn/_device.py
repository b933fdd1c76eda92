"""Where training runs, in which precision, and how its random generators are
seeded.

The one place that decides the device and which precision it can run: the
engine calls these and nothing else (with ``accelerate=True``,
``_distributed`` asks Accelerate for the device instead).
"""

import os
import threading
from contextlib import contextmanager
from typing import NamedTuple

import torch

DEVICE_TYPES = ("cpu", "cuda", "mps")


class Precision(NamedTuple):
    """How one value of the ``precision`` parameter is run."""

    autocast_dtype: torch.dtype | None  # None: no autocast
    accelerate_name: str  # Accelerate's ``mixed_precision``


PRECISIONS = {
    "float32": Precision(None, "no"),
    "bf16": Precision(torch.bfloat16, "bf16"),
    "fp16": Precision(torch.float16, "fp16"),
}
# Torch's random generators belong to the process: fits in threads of one
# process (joblib's threading backend, a Dask worker with several threads)
# take turns, or each would draw numbers meant for another.
_GENERATORS_LOCK = threading.RLock()


def _new_lock_after_fork():
    # a child forked while another thread fits would inherit the lock held
    global _GENERATORS_LOCK
    _GENERATORS_LOCK = threading.RLock()


os.register_at_fork(after_in_child=_new_lock_after_fork)


def resolve_device(device):
    """Turn the ``device`` parameter into a concrete torch device string.

    ``"auto"`` is CUDA when a CUDA device is available and the CPU otherwise.
    Asking for a device this machine lacks is an error, not a silent fallback.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        resolved = None
    if resolved is None or resolved.type not in DEVICE_TYPES:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine. Use device='auto' to fall back to the CPU."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return str(resolved)


def check_precision(precision, device):
    """Refuse mixed precision on a device without it: only CUDA has it."""
    if precision != "float32" and torch.device(device).type != "cuda":
        raise ValueError(
            f"precision={precision!r} needs a CUDA device, but training would run "
            f"on {device!r}: PyTorch's CPU kernels for recurrent layers have no "
            "mixed precision. Use precision='float32' on the CPU."
        )


def device_memory(device):
    """Total memory of ``device`` in bytes, or None where it cannot be told.

    The CPU's is the machine's physical memory; a CUDA device's, its own.
    """
    resolved = torch.device(device)
    if resolved.type == "cuda":
        return torch.cuda.get_device_properties(resolved).total_memory
    if resolved.type == "cpu":
        try:
            return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    return None


@contextmanager
def seeded_generators(seed, device):
    """Seed the generators a fit on ``device`` draws from, and restore them after.

    Only the CPU generator and, on CUDA, that one device's generator are seeded
    (``torch.manual_seed`` would seed every CUDA device, lazily, outside the
    fork), so the caller's random state is left exactly as it was. One fit at
    a time per process holds them.
    """
    with _GENERATORS_LOCK, torch.random.fork_rng(devices=_cuda_devices(device)):
        seed_generators(seed, device)
        yield


def generators_kept(device):
    """A context that leaves the generators a fit on ``device`` draws from
    as it found them: what runs in it does not change the draws after."""
    return torch.random.fork_rng(devices=_cuda_devices(device))


def seed_generators(seed, device):
    """Seed the generators a fit on ``device`` draws from, within
    :func:`seeded_generators`: to start a stage of the fit afresh."""
    torch.default_generator.manual_seed(seed)
    for index in _cuda_devices(device):
        with torch.cuda.device(index):
            torch.cuda.manual_seed(seed)


def _cuda_devices(device):
    """The one CUDA device index of ``device``, in a list; none for others."""
    resolved = torch.device(device)
    if resolved.type != "cuda":
        return []
    index = resolved.index
    return [torch.cuda.current_device() if index is None else index]
