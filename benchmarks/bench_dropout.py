"""Dropout's cost: PyTorch's ``nn.Dropout`` against the library's ``Dropout``.

Times a forward and backward pass through each, alternating, on the shape of
an embedding batch (texts x tokens x embedding_dim), next to the same pass
through a multiplication by one: what dropout adds to a training step. The
two draw their masks differently (``bernoulli_`` against uniform numbers
compared with ``p``); both keep each value with probability ``1 - p``.
"""

import argparse
import time

import torch
from torch import nn

from sklearn_rnn.modules import Dropout


def milliseconds(function, inputs, repeats):
    for _ in range(10):
        function(inputs).sum().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        function(inputs).sum().backward()
    return (time.perf_counter() - start) / repeats * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[64, 20, 100])
    parser.add_argument("--p", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    inputs = torch.randn(*args.shape, requires_grad=True)
    functions = {
        "multiply by 1": lambda x: x * 1.0,
        "nn.Dropout": nn.Dropout(args.p),
        "sklearn_rnn Dropout": Dropout(args.p),
    }
    times = {name: [] for name in functions}
    for round_ in range(args.rounds):
        names = list(functions)[:: 1 if round_ % 2 == 0 else -1]
        for name in names:
            times[name].append(milliseconds(functions[name], inputs, args.repeats))
    base = min(times["multiply by 1"])
    print(f"shape {tuple(args.shape)}, p={args.p}, {args.threads} thread(s)")
    print("forward + backward, best of rounds; 'added' is over multiplying by 1")
    for name, values in times.items():
        added = min(values) - base
        print(f"  {name:20s} {min(values):7.3f} ms   added {added:7.3f} ms")
    ratio = (min(times["nn.Dropout"]) - base) / (
        min(times["sklearn_rnn Dropout"]) - base
    )
    print(f"nn.Dropout adds {ratio:.1f}x what sklearn_rnn's Dropout adds")


if __name__ == "__main__":
    main()
