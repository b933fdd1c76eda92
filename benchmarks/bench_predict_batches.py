"""Prediction speed of the library's network against the batch size, long texts.

Runs the default network (untrained: only speed matters) over IMDB test
reviews sorted by length, in batches of a fixed number of texts, and prints
real tokens per second for each size: the measurement behind bounding
prediction batches by token positions in ``sklearn_rnn/batching.py``.
"""

import time

import torch
from _common import (
    choose_max_len,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    set_threads,
    token_lengths,
)

from sklearn_rnn import TextVectorizer
from sklearn_rnn.modules import RNNModule

BATCH_SIZES = (16, 32, 64, 128, 256)


def tokens_per_second(module, ids, lengths, batch_size):
    order = torch.argsort(lengths, descending=True)
    start = time.perf_counter()
    with torch.inference_mode():
        for index in order.split(batch_size):
            batch_lengths = lengths[index]
            module(ids[index, : int(batch_lengths.max())], batch_lengths)
    return int(lengths.sum()) / (time.perf_counter() - start)


def main():
    parser = make_parser(__doc__, ["imdb"])
    parser.add_argument("--max-test", type=int, default=600, help="texts predicted")
    args = parse_args(parser)
    set_threads(args.threads)
    print_header("bench_predict_batches", args)
    for dataset in args.datasets:
        limit = 100 if args.quick else args.max_test
        texts, _ = load_texts(args.data_dir, dataset, "test", limit, args.seed)
        max_len = choose_max_len(token_lengths(texts), quick=args.quick)
        vectorizer = TextVectorizer(max_len=max_len, max_features=20_000)
        ids = torch.from_numpy(vectorizer.fit_transform(texts))
        lengths = (ids != 0).sum(dim=1)
        torch.manual_seed(args.seed)
        module = RNNModule(len(vectorizer.vocabulary_) + 2, 2).eval()
        speeds = {
            size: tokens_per_second(module, ids, lengths, size) for size in BATCH_SIZES
        }
        best = max(speeds.values())
        rows = [
            {
                "texts per batch": size,
                "token positions (longest batch)": size * max_len,
                "real tokens/s": f"{speed:,.0f}",
                "vs best": f"{speed / best:.2f}x",
            }
            for size, speed in speeds.items()
        ]
        print_table(f"{dataset}: max_len {max_len}, {len(texts)} texts", rows)


if __name__ == "__main__":
    main()
