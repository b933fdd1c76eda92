"""Recurrence paths: packed sequences against exact padded batches, per step.

Measures real (non-padding) tokens per second of a training step (forward and
backward) and of a prediction step (forward only), on batches of real texts,
for the ways an RNN can read variable-length text:

- ``fixed``: every text padded to ``max_len``, PyTorch's fused bidirectional
  LSTM; the hand-written baseline (padding enters the backward direction);
- ``packed``: ``pack_padded_sequence`` through a bidirectional ``nn.LSTM``;
  exact;
- ``padded``: the library's ``RNNModule``: each batch trimmed to its longest
  text, the backward direction run on each text reversed within its length;
  exact.

- ``padded, packed layers``: the library's ``RNNModule(packed=True)``: the
  same network and weights, each direction's layer run on packed sequences;
  exact.

``packed`` and the library's paths run on random batches and on
length-bucketed ones (the library's ``BatchIterator``). This is the
measurement behind the choice of the padded path in
``sklearn_rnn/modules.py`` on the CPU; ``--device cuda`` measures the same on
a GPU, where cuDNN's packed kernels may change the answer.
"""

import time

import numpy as np
import torch
from _common import (
    BATCH_SIZE,
    EMBEDDING_DIM,
    HIDDEN_SIZE,
    choose_max_len,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    set_threads,
    write_json,
)
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_rnn import TextVectorizer
from sklearn_rnn.batching import BatchIterator, EncodedTexts
from sklearn_rnn.modules import RNNModule

VOCABULARY = 20_000


class PackedLSTM(nn.Module):
    """Embedding, packed bidirectional LSTM, max pooling over real tokens."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY + 2, EMBEDDING_DIM, padding_idx=0)
        self.rnn = nn.LSTM(
            EMBEDDING_DIM, HIDDEN_SIZE, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * HIDDEN_SIZE, 2)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(
            self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True)
        positions = torch.arange(states.shape[1], device=states.device)
        mask = positions[None, :] < lengths.to(states.device)[:, None]
        return self.head(states.masked_fill(~mask[:, :, None], -1e4).amax(1))


class FixedLSTM(PackedLSTM):
    """The same network reading every position of the padded matrix."""

    def forward(self, ids, lengths):
        return self.head(self.rnn(self.embedding(ids))[0].amax(1))


def batches(data, bucketed, fixed_width=None, limit=None):
    torch.manual_seed(0)
    if bucketed:
        iterator = BatchIterator(data, BATCH_SIZE, shuffle=True)
        index_batches = iterator._bucketed_batches()
    else:
        index_batches = torch.randperm(len(data)).split(BATCH_SIZE)
    for index in index_batches[:limit]:
        inputs, _ = data.batch(index)
        if fixed_width is not None:
            inputs["ids"] = data.ids[index, :fixed_width]
        yield inputs


def tokens_per_second(
    model, data, bucketed, train, fixed_width=None, limit=None, device="cpu"
):
    model.train(train)
    batch_list = list(batches(data, bucketed, fixed_width, limit))
    tokens = sum(int(inputs["lengths"].sum()) for inputs in batch_list)
    synchronize = torch.cuda.synchronize if device.startswith("cuda") else None
    if synchronize:
        synchronize()
    start = time.perf_counter()
    for inputs in batch_list:
        ids = inputs["ids"].to(device, non_blocking=True)
        if train:
            model(ids, inputs["lengths"]).sum().backward()
        else:
            with torch.inference_mode():
                model(ids, inputs["lengths"])
    if synchronize:
        synchronize()
    return tokens / (time.perf_counter() - start)


def main():
    parser = make_parser(__doc__, ["imdb", "sst2"])
    parser.add_argument("--max-train", type=int, default=3000, help="texts used")
    parser.add_argument(
        "--batches", type=int, default=30, help="batches timed per configuration"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1...")
    args = parse_args(parser)
    set_threads(args.threads)
    print_header("bench_paths", args)
    results = {}
    for dataset in args.datasets:
        limit = 300 if args.quick else args.max_train
        texts, _ = load_texts(args.data_dir, dataset, "train", limit, args.seed)
        full = TextVectorizer(max_len=None, max_features=VOCABULARY).fit_transform(
            texts
        )
        lengths = np.count_nonzero(full, axis=1)
        max_len = choose_max_len(lengths, quick=args.quick)
        data = EncodedTexts(np.ascontiguousarray(full[:, :max_len]))
        torch.manual_seed(args.seed)
        ours = RNNModule(VOCABULARY + 2, 2, EMBEDDING_DIM, HIDDEN_SIZE)
        ours_packed = RNNModule(
            VOCABULARY + 2, 2, EMBEDDING_DIM, HIDDEN_SIZE, packed=True
        )
        packed, fixed = PackedLSTM(), FixedLSTM()
        for model in (ours, ours_packed, packed, fixed):
            model.to(args.device)
        n_batches = 3 if args.quick else args.batches
        rows = []
        for train in (True, False):
            fixed_speed = tokens_per_second(
                fixed, data, False, train, max_len, n_batches, args.device
            )
            measured = {"fixed": fixed_speed}
            paths = [
                ("packed", packed),
                ("padded", ours),
                ("padded, packed layers", ours_packed),
            ]
            for name, model in paths:
                for bucketed in (False, True):
                    key = f"{name} {'bucketed' if bucketed else 'random'}"
                    measured[key] = tokens_per_second(
                        model, data, bucketed, train, None, n_batches, args.device
                    )
            for key, speed in measured.items():
                rows.append(
                    {
                        "step": "train" if train else "predict",
                        "path": key,
                        "real tokens/s": f"{speed:,.0f}",
                        "vs fixed": f"{speed / measured['fixed']:.2f}x",
                    }
                )
            results[f"{dataset} {'train' if train else 'predict'}"] = measured
        ceiling = data.ids.shape[0] * max_len / int(data.lengths.sum())
        print_table(
            f"{dataset}: max_len {max_len}, mean length "
            f"{data.lengths.float().mean():.1f}, ceiling {ceiling:.2f}x",
            rows,
        )
    write_json(args.json, "bench_paths", args, results)


if __name__ == "__main__":
    main()
