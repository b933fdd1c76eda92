"""What the language model of pretrain="lm" predicts over, and at what cost.

A training step (forward and backward) of the prediction layer alone, on the
states of one batch: the adaptive softmax that ``pretrain="lm"`` uses over the
20,000 most frequent ids, against a full softmax over the same ids and over
the whole vocabulary. Targets are drawn from the token frequencies of the
real texts (``--dataset``), so that the adaptive softmax's head and tails are
hit as often as in pretraining. Medians of ``--repeats`` steps, in turn.
"""

import time

import numpy as np
import torch
from _common import load_texts, make_parser, print_header, print_table, set_threads
from torch import nn

from sklearn_rnn import TextVectorizer
from sklearn_rnn.pretraining import (
    HEAD_SIZE,
    MAX_TARGETS,
    TAIL_SIZE,
    LanguageModelHeads,
)


def step_seconds(layer, loss_of, states, targets, repeats):
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_of(layer, states, targets).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def adaptive_loss(heads, states, targets):
    return -heads.directions[0](states, targets).output.mean()


def full_loss(linear, states, targets):
    return nn.functional.cross_entropy(linear(states), targets)


def main():
    parser = make_parser(__doc__, ["imdb"])
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--texts", type=int, default=5000, help="texts counted")
    parser.add_argument("--tokens", type=int, default=64 * 128, help="per step")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    set_threads(args.threads)
    print_header("Language-model softmax: cost of a step", args)
    texts, _ = load_texts(args.data_dir, args.dataset, "train", args.texts, args.seed)
    ids = TextVectorizer().fit_transform(texts)
    ids = ids[ids > 0]
    n_vocabulary = int(ids.max()) + 1
    rng = np.random.RandomState(args.seed)
    sampled = torch.as_tensor(rng.choice(ids, args.tokens))
    states = torch.randn(args.tokens, args.hidden_size)
    n_targets = min(n_vocabulary, MAX_TARGETS)
    capped = torch.where(sampled < n_targets, sampled, torch.ones_like(sampled))
    candidates = {
        f"adaptive, {n_targets:,} ids": (
            LanguageModelHeads(args.hidden_size, n_targets, 1),
            adaptive_loss,
            capped,
        ),
        f"full softmax, {n_targets:,} ids": (
            nn.Linear(args.hidden_size, n_targets),
            full_loss,
            capped,
        ),
        f"full softmax, all {n_vocabulary:,} ids": (
            nn.Linear(args.hidden_size, n_vocabulary),
            full_loss,
            sampled,
        ),
    }
    seconds = {name: [] for name in candidates}
    for _ in range(2):  # rounds, in turn
        for name, (layer, loss_of, targets) in candidates.items():
            seconds[name].append(
                step_seconds(layer, loss_of, states, targets, args.repeats)
            )
    base = float(np.median(seconds[next(iter(candidates))]))
    rows = [
        {
            "prediction layer": name,
            "ms per step": f"{1000 * np.median(times):.1f}",
            "x adaptive": f"{np.median(times) / base:.2f}",
        }
        for name, times in seconds.items()
    ]
    shares = ", ".join(
        f"{(ids < first).mean():.1%} among the first {first:,}"
        for first in (HEAD_SIZE, TAIL_SIZE, n_targets)
    )
    print(f"Tokens of {len(texts):,} texts (ids): {shares}.")
    print(f"{args.tokens:,} predicted tokens per step.\n")
    print_table("A training step of the prediction layer", rows)


if __name__ == "__main__":
    main()
