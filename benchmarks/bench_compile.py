"""torch.compile against eager mode for the library's network, training steps.

Synthetic batches of 64 texts of 8 to 40 tokens (lengths vary from batch to
batch, as length-bucketed training batches do); real tokens per second of
forward, backward and fused Adam steps, eager, compiled with dynamic shapes,
and eager again. The compile warm-up is reported on its own.
"""

import argparse
import time

import torch

from sklearn_rnn.modules import RNNModule

N_TOKENS = 20_002
BATCH = 64


def make_batches(n_batches, seed):
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(n_batches):
        width = int(torch.randint(8, 41, (1,), generator=generator))
        lengths = torch.randint(
            max(1, width - 3), width + 1, (BATCH,), generator=generator
        )
        lengths[0] = width
        ids = torch.randint(2, N_TOKENS, (BATCH, width), generator=generator)
        ids[torch.arange(width)[None, :] >= lengths[:, None]] = 0
        batches.append((ids, lengths))
    return batches


def tokens_per_second(model, optimizer, batches):
    loss_function = torch.nn.CrossEntropyLoss()
    targets = torch.zeros(BATCH, dtype=torch.int64)
    start, tokens = time.perf_counter(), 0
    for ids, lengths in batches:
        optimizer.zero_grad()
        loss_function(model(ids, lengths), targets).backward()
        optimizer.step()
        tokens += int(lengths.sum())
    return tokens / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    module = RNNModule(N_TOKENS, 2)
    optimizer = torch.optim.Adam(module.parameters(), fused=True)
    batches = make_batches(args.batches, args.seed)
    eager = tokens_per_second(module, optimizer, batches)
    compiled_module = torch.compile(module, dynamic=True)
    start = time.perf_counter()
    tokens_per_second(compiled_module, optimizer, batches[:3])
    warm_up = time.perf_counter() - start
    compiled = tokens_per_second(compiled_module, optimizer, batches)
    eager_again = tokens_per_second(module, optimizer, batches)
    print(f"compile warm-up: {warm_up:.1f} s")
    print(f"eager        {eager:9.0f} real tokens/s  1.00x")
    print(f"compiled     {compiled:9.0f} real tokens/s  {compiled / eager:.2f}x")
    print(f"eager again  {eager_again:9.0f} real tokens/s  {eager_again / eager:.2f}x")


if __name__ == "__main__":
    main()
