"""Learning from unlabeled texts: the defaults with and without pretraining.

Each setting holds out the test split and trains on a few labelled texts,
with more texts given unlabeled (None in ``y``):

- ``imdb``: 1,000 and 5,000 labelled reviews (``--labelled``), and the next
  ``--unlabeled`` training reviews (20,000 by default) unlabeled;
- sentence sets (``--sentence-sets``, MR and SUBJ by default): all their
  training texts labelled, and no extra texts.

Models, side by side on each setting:

- ``default``: ``RNNTextClassifier(random_state=seed)`` on the labelled
  texts alone;
- ``pretrain``: the same with ``pretrain="lm"`` (``--pretrain-epochs``),
  fitted on the labelled and unlabeled texts;
- ``tfidf_bigram_lr``: TF-IDF (1-2 grams, ``min_df=2``, sublinear tf) +
  ``LogisticRegression`` on the labelled texts, the strong linear baseline.

Every model is fitted in a fresh interpreter. Reported: test accuracy, fit
seconds (pretraining and vectorizing included), epochs, and the
language model's loss per pretraining epoch. ``--jobs 2`` fits two models at
once, each with ``--threads`` threads: accuracies are unchanged, fit seconds
comparable only within a run.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import (
    fmt,
    load_texts,
    make_parser,
    parse_args,
    parse_overrides,
    print_header,
    print_table,
    run_worker,
    set_threads,
    write_json,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNTextClassifier

MODELS = ("default", "pretrain", "tfidf_bigram_lr")
QUICK_LABELLED = 200
QUICK_UNLABELED = 400
QUICK_TEST = 300


def build_model(model, seed, pretrain_epochs, overrides):
    if model == "tfidf_bigram_lr":
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            LogisticRegression(max_iter=1000),
        )
    params = {"random_state": seed, **overrides}
    if model == "pretrain":
        params.update(pretrain="lm", pretrain_epochs=pretrain_epochs)
    return RNNTextClassifier(**params)


def fit_and_score(job):
    """Fit one model on one setting in this process; return its figures."""
    set_threads(job["threads"])
    texts, labels = load_texts(
        job["data_dir"], job["dataset"], "train", None, job["seed"]
    )
    labelled = job["n_labelled"] or len(texts)
    extra = texts[labelled : labelled + job["n_unlabeled"]]
    texts, labels = texts[:labelled], list(labels[:labelled])
    test_texts, test_labels = load_texts(
        job["data_dir"], job["dataset"], "test", job["max_test"], job["seed"]
    )
    estimator = build_model(
        job["model"], job["seed"], job["pretrain_epochs"], job["overrides"]
    )
    if job["model"] == "pretrain":
        texts, labels = texts + extra, labels + [None] * len(extra)
    start = time.perf_counter()
    estimator.fit(texts, labels)
    seconds = time.perf_counter() - start
    return {
        "setting": job["setting"],
        "model": job["model"],
        "n_labelled": labelled,
        "n_unlabeled": len(extra) if job["model"] == "pretrain" else 0,
        "accuracy": float(accuracy_score(test_labels, estimator.predict(test_texts))),
        "fit_seconds": seconds,
        "epochs": getattr(estimator, "n_epochs_", None),
        "pretrain_loss": getattr(estimator, "pretrain_loss_", None),
    }


def run_job(job):
    return run_worker(__file__, job, f"{job['model']} on {job['setting']}")


def settings(args):
    """(name, dataset, labelled texts or None for all, unlabeled texts)."""
    if args.quick:
        return [("imdb quick", "imdb", QUICK_LABELLED, QUICK_UNLABELED)]
    found = [(f"imdb {n:,} labelled", "imdb", n, args.unlabeled) for n in args.labelled]
    return found + [(name, name, None, 0) for name in args.sentence_sets]


def main():
    parser = make_parser(__doc__, ())
    parser.add_argument("--labelled", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--unlabeled", type=int, default=20_000)
    parser.add_argument("--sentence-sets", nargs="*", default=["mr", "subj"])
    parser.add_argument("--max-test", type=int, default=5000, help="test texts")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--jobs", type=int, default=1, help="models fitted at once")
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of both RNN models (a Python literal)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    if "--worker" in sys.argv:
        print(json.dumps(fit_and_score(json.loads(sys.stdin.read()))))
        return
    args = parse_args(parser)
    overrides = parse_overrides(args.set, parser)
    jobs = [
        {
            "setting": name,
            "dataset": dataset,
            "n_labelled": n_labelled,
            "n_unlabeled": n_unlabeled,
            "model": model,
            "data_dir": args.data_dir,
            "seed": args.seed,
            "threads": args.threads,
            "max_test": QUICK_TEST if args.quick else args.max_test,
            "pretrain_epochs": args.pretrain_epochs,
            "overrides": {**overrides, **({"max_epochs": 1} if args.quick else {})},
        }
        for name, dataset, n_labelled, n_unlabeled in settings(args)
        for model in args.models
    ]
    print_header("Learning from unlabeled texts", args)
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_job, jobs))
    rows = [
        {
            "setting": result["setting"],
            "model": result["model"],
            "labelled": result["n_labelled"],
            "unlabeled": result["n_unlabeled"],
            "accuracy %": fmt(100 * result["accuracy"], 2),
            "fit s": fmt(result["fit_seconds"], 1),
            "epochs": result["epochs"] or "",
            "LM loss per epoch": " ".join(
                f"{loss:.2f}" for loss in result["pretrain_loss"] or []
            ),
        }
        for result in results
    ]
    print_table("Test accuracy and fit time", rows)
    write_json(args.json, "bench_unlabeled", args, results)


if __name__ == "__main__":
    main()
