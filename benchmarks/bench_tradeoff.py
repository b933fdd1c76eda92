"""Trade-off benchmark: fit time against accuracy for named settings.

Each setting is a set of ``RNNTextClassifier`` parameters (``SETTINGS``
below; ``default`` is the library's defaults). Every setting is fitted on
every dataset's standard train/test split, each fit in a fresh interpreter
(``bench_accuracy.py``'s worker), the settings in a new order on each
dataset, and TF-IDF bigrams + logistic regression beside them as the linear
reference. The report gives, per setting, the test accuracy on each dataset,
their mean, and the median over datasets of its fit time over the default's
in the same run: the figures of the trade-off table in docs/benchmarks.rst.

``--jobs 2`` fits two models at once (one thread each): accuracies are
unchanged, seconds comparable only within the run.
"""

import sys

import numpy as np
from _common import make_parser, parse_args, print_header, print_table, write_json
from bench_accuracy import (
    QUICK_MAX_TEST,
    QUICK_MAX_TRAIN,
    make_job,
    run_all,
    run_job,
)

DATASETS = ("trec", "cr", "sms_spam", "mpqa", "mr", "subj")
SETTINGS = {
    "default": {},
    "unidirectional 128": {"bidirectional": False, "hidden_size": 128},
    "unidirectional 64": {"bidirectional": False},
    "batches of 128": {"batch_size": 128, "lr": 4e-3},
    "gru": {"cell": "gru"},
    "no bag of words": {"bag_of_words": False},
    "0.1 defaults": {
        "hidden_size": 128,
        "batch_size": 32,
        "lr": 1e-3,
        "n_iter_no_change": 3,
        "max_len": 256,
    },
}
LINEAR = "tfidf_bigram_lr"


def main():
    parser = make_parser(__doc__, DATASETS)
    parser.add_argument(
        "--settings",
        nargs="+",
        default=list(SETTINGS),
        choices=list(SETTINGS),
        help="settings to fit; the first is the one times are divided by",
    )
    parser.add_argument("--max-train", type=int, help="cut the training set")
    parser.add_argument("--max-test", type=int, help="cut the test set")
    parser.add_argument("--jobs", type=int, default=1, help="models fitted at once")
    args = parse_args(parser)
    if args.quick:
        args.max_train = args.max_train or QUICK_MAX_TRAIN
        args.max_test = args.max_test or QUICK_MAX_TEST
    print_header("bench_tradeoff", args)
    names = [*args.settings, LINEAR]
    jobs = []
    for round_, dataset in enumerate(args.datasets):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            overrides = dict(SETTINGS.get(name, {}))
            if args.quick and name != LINEAR:
                overrides["max_epochs"] = 1
            model = LINEAR if name == LINEAR else "default"
            jobs.append((name, make_job(args, dataset, model, overrides)))
    results = run_all(jobs, args, "bench_tradeoff", _run, name="setting")
    report(results, names, args.datasets)
    write_json(args.json, "bench_tradeoff", args, results)


def _run(named_job):
    setting, job = named_job
    return {**run_job(job, baseline=None), "setting": setting}


def report(results, names, datasets):
    figures = {(r["setting"], r["dataset"]): r for r in results}
    reference = names[0]
    rows = []
    for name in names:
        accuracy = [100 * figures[name, dataset]["accuracy"] for dataset in datasets]
        ratios = [
            figures[name, dataset]["fit_seconds"]
            / figures[reference, dataset]["fit_seconds"]
            for dataset in datasets
        ]
        row = {"setting": name, "parameters": _describe(name)}
        row.update(
            {dataset: f"{a:.1f}" for dataset, a in zip(datasets, accuracy, strict=True)}
        )
        row["mean"] = f"{np.mean(accuracy):.2f}"
        row[f"fit time / {reference}"] = f"{np.median(ratios):.2f}"
        rows.append(row)
    print_table(
        "Test accuracy (%), and the median over datasets of fit time over the "
        f"{reference}'s",
        rows,
    )


def _describe(name):
    if name == LINEAR:
        return "TF-IDF (1-2 grams) + LogisticRegression"
    return ", ".join(f"{k}={v!r}" for k, v in SETTINGS[name].items()) or "-"


if __name__ == "__main__":
    sys.exit(main())
