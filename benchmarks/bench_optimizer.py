"""Optimizer step time over the library's default network, per implementation.

Times one ``step()`` of Adam, AdamW, SGD (momentum 0.9) and RMSprop over an
embedding of ``--n-tokens`` x 100 and a bidirectional LSTM(100 -> 128), in their
default, ``foreach`` and ``fused`` forms: the measurement behind the fused
kernels chosen in ``sklearn_rnn/classifier.py``. Gradients are random and fixed.
"""

import argparse
import time

import torch

from sklearn_rnn.modules import RNNModule

VARIANTS = [
    ("adam", torch.optim.Adam, {}),
    ("adam", torch.optim.Adam, {"foreach": True}),
    ("adam", torch.optim.Adam, {"fused": True}),
    ("adamw", torch.optim.AdamW, {}),
    ("adamw", torch.optim.AdamW, {"fused": True}),
    ("sgd", torch.optim.SGD, {"momentum": 0.9}),
    ("sgd", torch.optim.SGD, {"momentum": 0.9, "fused": True}),
    ("rmsprop", torch.optim.RMSprop, {}),
    ("rmsprop", torch.optim.RMSprop, {"foreach": True}),
]


def step_milliseconds(optimizer, steps):
    for _ in range(3):
        optimizer.step()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - start) / steps * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tokens", type=int, nargs="+", default=[20_000, 50_000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for n_tokens in args.n_tokens:
        module = RNNModule(n_tokens, 2)
        for parameter in module.parameters():
            parameter.grad = torch.randn_like(parameter)
        print(f"n_tokens={n_tokens}")
        for name, optimizer_class, options in VARIANTS:
            optimizer = optimizer_class(module.parameters(), lr=1e-3, **options)
            label = f"{name} {','.join(options) or 'default'}"
            print(f"  {label:24s} {step_milliseconds(optimizer, args.steps):6.1f} ms")


if __name__ == "__main__":
    main()
