"""Fused bidirectional call: one LSTM call for both directions, or two.

``RNNModule`` runs each direction as its own layer and reads the backward one
on each text reversed within its length. For a batch whose texts all have the
same length, one bidirectional call (``torch._VF.lstm`` given both
directions' weights) gives the same outputs without the reversal. This times
a training step (forward, max pooling, backward) both ways on random
embeddings, alternating, and reports the median of each and their ratio.
"""

import argparse
import statistics
from functools import partial

import torch
from _common import alternating_order, set_threads, timed
from torch import nn

from sklearn_rnn.modules import reversal_index, reverse_within_lengths


def two_calls(forward, backward, inputs):
    """A step as RNNModule takes it: a call per direction, input reversed."""
    lengths = torch.full((len(inputs),), inputs.shape[1])
    reverse = reversal_index(lengths, inputs.shape[1])
    reversed_inputs = reverse_within_lengths(inputs, reverse)
    states = torch.cat([forward(inputs)[0], backward(reversed_inputs)[0]], dim=2)
    states.amax(dim=1).sum().backward()
    return states


def fused_call(forward, backward, inputs):
    """The same step as one bidirectional call over both directions' weights."""
    weights = [*forward._flat_weights, *backward._flat_weights]  # noqa: SLF001
    zeros = inputs.new_zeros(2, len(inputs), forward.hidden_size)
    states = torch._VF.lstm(  # noqa: SLF001
        inputs, (zeros, zeros), weights, True, 1, 0.0, True, True, True
    )[0]
    states.amax(dim=1).sum().backward()
    return states


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lengths", type=int, nargs="+", default=[8, 20, 60, 250])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--embedding", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    print(f"batch {args.batch}, embedding {args.embedding}, {args.threads} thread(s)")
    print("length  hidden  two calls ms  fused ms  two / fused  largest difference")
    for length in args.lengths:
        for hidden in args.hidden:
            forward = nn.LSTM(args.embedding, hidden, batch_first=True)
            backward = nn.LSTM(args.embedding, hidden, batch_first=True)
            inputs = torch.randn(
                args.batch, length, args.embedding, generator=generator
            ).requires_grad_()
            # the backward direction of two_calls is in reversed order
            separate = two_calls(forward, backward, inputs).detach()
            separate[:, :, hidden:] = separate[:, :, hidden:].flip(1)
            fused = fused_call(forward, backward, inputs).detach()
            difference = (separate - fused).abs().max().item()
            steps = {"two": two_calls, "fused": fused_call}
            times = {"two": [], "fused": []}
            for round_ in range(args.runs):
                for name in alternating_order(steps, round_):
                    step = partial(steps[name], forward, backward, inputs)
                    _, seconds = timed(step)
                    times[name].append(seconds)
            two = statistics.median(times["two"])
            fused_time = statistics.median(times["fused"])
            print(
                f"{length:6d}  {hidden:6d}  {1e3 * two:12.2f}  {1e3 * fused_time:8.2f}"
                f"  {two / fused_time:11.2f}  {difference:.1e}"
            )


if __name__ == "__main__":
    main()
