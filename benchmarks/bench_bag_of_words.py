"""Training time with and without the bag of words, by number of classes.

``RNNTextClassifier(bag_of_words=True)`` adds an ``n_tokens x n_classes``
table of weights that Adam updates at every step. This script fits the
default network with and without it, side by side in one process (best of
``--runs`` rounds, order alternated), for the data set's own labels and for
random labels with ``--classes`` classes, where the table's size, not the
labels' meaning, is what is measured. Reported: fit seconds of each, their
ratio, the vocabulary size and the test accuracy (meaningless for random
labels).
"""

from functools import partial

import numpy as np
from _common import (
    add_subset_options,
    best_times,
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_table,
    run_per_dataset,
    warm_up_fit,
)

from sklearn_rnn import RNNTextClassifier


def benchmark_dataset(args, dataset):
    texts, labels = load_texts(
        args.data_dir, dataset, "train", args.max_train, args.seed
    )
    test_texts, test_labels = load_texts(
        args.data_dir, dataset, "test", args.max_train, args.seed
    )
    warm_up_fit(RNNTextClassifier(max_epochs=1), texts, labels)
    rows = []
    for n_classes in args.classes:
        y = labels
        if n_classes:
            y = np.random.RandomState(args.seed).randint(n_classes, size=len(texts))
        models = {
            bag: RNNTextClassifier(
                bag_of_words=bag,
                max_epochs=args.epochs,
                early_stopping=False,
                random_state=args.seed,
            )
            for bag in (False, True)
        }
        seconds, fitted = best_times(
            {bag: partial(model.fit, texts, y) for bag, model in models.items()},
            runs=args.runs,
        )
        rows.append(
            {
                "dataset": dataset,
                "classes": len(np.unique(y)),
                "vocabulary": fitted[True].n_tokens_,
                "fit s, no bag": seconds[False],
                "fit s, bag": seconds[True],
                "bag / no bag": seconds[True] / seconds[False],
                **{
                    f"test acc, {name}": None
                    if n_classes
                    else fitted[bag].score(test_texts, test_labels)
                    for bag, name in ((False, "no bag"), (True, "bag"))
                },
            }
        )
        print(f"  {dataset}, {rows[-1]['classes']} classes: ratio "
              f"{rows[-1]['bag / no bag']:.2f}", flush=True)  # fmt: skip
    return rows


def report(results):
    rows = [
        {
            key: fmt(value, 2) if isinstance(value, float) else value
            for key, value in row.items()
        }  # fmt: skip
        for rows in results
        for row in rows
    ]
    print_table("Fit seconds (best of runs) with and without the bag of words", rows)


def main():
    parser = make_parser(__doc__, ["agnews_10k"])
    add_subset_options(parser, "cut the training and test sets")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--classes",
        type=int,
        nargs="+",
        default=[0, 200],
        help="0: the data's own labels; N: random labels of N classes",
    )
    args = parse_args(parser)
    if args.quick:
        args.max_train = args.max_train or 300
        args.runs = 1
    run_per_dataset("bench_bag_of_words", args, benchmark_dataset, report)


if __name__ == "__main__":
    main()
