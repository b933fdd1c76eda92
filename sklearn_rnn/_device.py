"""Where training runs: the one place that decides the device."""

import torch


def resolve_device(device):
    """Turn the ``device`` parameter into a concrete torch device string.

    ``"auto"`` is CUDA when a CUDA device is available and the CPU otherwise.
    Asking for CUDA on a machine without it is an error, not a silent fallback.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from None
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


def generator_devices(device):
    """The CUDA device indices whose generators a seeded fit must fork."""
    resolved = torch.device(device)
    if resolved.type != "cuda":
        return []
    return [resolved.index if resolved.index is not None else 0]
