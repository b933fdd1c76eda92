"""Accuracy benchmark: RNNTextClassifier with its defaults against TF-IDF + LR.

For each dataset, on its standard train/test split (all of it unless
``--max-train``/``--max-test`` cut it), these models are fitted on the raw
training texts and scored on the test texts:

- ``default``: ``RNNTextClassifier(random_state=seed)``, nothing tuned;
- ``gru`` and ``rnn``: the same with ``cell="gru"`` and ``cell="rnn"``;
- ``no_bag``: the same with ``bag_of_words=False``, the recurrent network
  alone;
- ``tfidf_lr``: ``TfidfVectorizer()`` + ``LogisticRegression(max_iter=1000)``,
  both at their defaults: the pipeline the targets are measured against;
- ``tfidf_bigram_lr``: the same with ``ngram_range=(1, 2), min_df=2`` and
  ``sublinear_tf=True``, a stronger, tuned-by-habit baseline, for context.

Reported: test accuracy, macro-F1, fit seconds (vectorizing included) and,
for the RNNs, the epochs trained. ``--set name=value`` overrides a parameter
of the RNN models (values are Python literals), to compare candidate defaults
with the same script. ``--jobs 2`` fits two models at once, each in its own
process with ``--threads`` threads: accuracies are unchanged, fit seconds are
slower than alone and comparable only within a run. ``--bag-lr-factor``
changes how much faster than ``lr`` the bag of words learns.
"""

import ast
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
from _common import (
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    set_threads,
    write_json,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

import sklearn_rnn._net_builder as net_builder
from sklearn_rnn import RNNTextClassifier

DATASETS = (
    "sst2",
    "mr",
    "subj",
    "cr",
    "mpqa",
    "trec",
    "sms_spam",
    "agnews_10k",
    "20newsgroups",
    "imdb",
)
RNN_MODELS = {
    "default": {},
    "gru": {"cell": "gru"},
    "rnn": {"cell": "rnn"},
    "no_bag": {"bag_of_words": False},
}
MODELS = (*RNN_MODELS, "tfidf_lr", "tfidf_bigram_lr")
QUICK_MAX_TRAIN = 300
QUICK_MAX_TEST = 200


def build_model(model, seed, overrides):
    if model in RNN_MODELS:
        params = {"random_state": seed, **RNN_MODELS[model], **overrides}
        return RNNTextClassifier(**params)
    if model == "tfidf_lr":
        return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )


def fit_and_score(*, data_dir, dataset, model, seed, max_train, max_test, threads,
                  overrides, bag_lr_factor=None):  # fmt: skip
    """Fit one model on one dataset in this process; return its figures."""
    set_threads(threads)
    if bag_lr_factor is not None:
        # a module constant, not a parameter: this process only
        net_builder.BAG_LR_FACTOR = bag_lr_factor
    texts, labels = load_texts(data_dir, dataset, "train", max_train, seed)
    test_texts, test_labels = load_texts(data_dir, dataset, "test", max_test, seed)
    estimator = build_model(model, seed, overrides)
    start = time.perf_counter()
    estimator.fit(texts, labels)
    seconds = time.perf_counter() - start
    predicted = estimator.predict(test_texts)
    return {
        "dataset": dataset,
        "model": model,
        "n_train": len(texts),
        "n_test": len(test_texts),
        "accuracy": float(accuracy_score(test_labels, predicted)),
        "macro_f1": float(f1_score(test_labels, predicted, average="macro")),
        "fit_seconds": seconds,
        "epochs": getattr(estimator, "n_epochs_", None),
        "best_epoch": getattr(estimator, "best_epoch_", None),
    }


def parse_overrides(pairs, parser):
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            parser.error(f"--set takes name=value, got {pair!r}")
        try:
            overrides[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[name] = value
    return overrides


def report(results):
    rows = []
    for dataset in dict.fromkeys(result["dataset"] for result in results):
        figures = {r["model"]: r for r in results if r["dataset"] == dataset}
        baseline = figures.get("tfidf_lr")
        for model, result in figures.items():
            gap = (
                100 * (result["accuracy"] - baseline["accuracy"])
                if baseline and model != "tfidf_lr"
                else None
            )
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "n_train": f"{result['n_train']:,}",
                    "accuracy": fmt(100 * result["accuracy"], 1),
                    "vs tfidf_lr": "" if gap is None else f"{gap:+.1f}",
                    "macro-F1": fmt(100 * result["macro_f1"], 1),
                    "fit s": fmt(result["fit_seconds"], 0),
                    "epochs": (
                        ""
                        if result["epochs"] is None
                        else f"{result['epochs']} (best {result['best_epoch']})"
                    ),
                }
            )
    print_table("Test accuracy and macro-F1 (%), fit seconds", rows)


def main():
    parser = make_parser(__doc__, DATASETS)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--max-train", type=int, help="cut the training set")
    parser.add_argument("--max-test", type=int, help="cut the test set")
    parser.add_argument("--jobs", type=int, default=1, help="models fitted at once")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter of the RNN models",
    )
    parser.add_argument(
        "--bag-lr-factor",
        type=float,
        help="the bag of words' learning rate over lr (default: the library's, 10)",
    )
    args = parse_args(parser)
    overrides = parse_overrides(args.set, parser)
    if args.quick:
        args.max_train = args.max_train or QUICK_MAX_TRAIN
        args.max_test = args.max_test or QUICK_MAX_TEST
        overrides.setdefault("max_epochs", 1)
    args.overrides = overrides
    print_header("bench_accuracy", args)
    if overrides:
        print(f"RNN parameters set: {overrides}\n")
    jobs = [
        {
            "data_dir": args.data_dir,
            "dataset": dataset,
            "model": model,
            "seed": args.seed,
            "max_train": args.max_train,
            "max_test": args.max_test,
            "threads": args.threads,
            "overrides": overrides,
            "bag_lr_factor": args.bag_lr_factor,
        }
        for dataset in args.datasets
        for model in args.models
    ]
    results = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(fit_and_score, **job) for job in jobs]
        for future in futures:
            result = future.result()
            results.append(result)
            print(
                f"  {result['dataset']:>12} {result['model']:>15}: accuracy "
                f"{result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
                f"{result['fit_seconds']:.0f} s, epochs {result['epochs']}",
                flush=True,
            )
            # saved as they come, so an interrupted run keeps what it measured
            write_json(args.json, "bench_accuracy", args, results, quiet=True)
    print()
    report(results)
    summary = summarize(results)
    if summary:
        print(summary)
    write_json(args.json, "bench_accuracy", args, results)


def summarize(results):
    """How the default RNN stands against tfidf_lr, in the targets' terms."""
    gaps = []
    for dataset in dict.fromkeys(result["dataset"] for result in results):
        figures = {r["model"]: r for r in results if r["dataset"] == dataset}
        if "default" in figures and "tfidf_lr" in figures:
            default, baseline = figures["default"], figures["tfidf_lr"]
            gaps.append(default["accuracy"] - baseline["accuracy"])
    if not gaps:
        return ""
    gaps = 100 * np.array(gaps)
    return (
        f"default vs tfidf_lr over {len(gaps)} datasets: above on {(gaps > 0).sum()}, "
        f"within 1 point on {(gaps >= -1).sum()}, worst gap {gaps.min():+.1f} points"
    )


if __name__ == "__main__":
    main()
