"""Learning from unlabeled texts: the defaults with and without pretraining.

Each setting holds out the test split and trains on a few labelled texts,
with more texts given unlabeled (None in ``y``):

- ``imdb``: 1,000 and 5,000 labelled reviews (``--labelled``), and the next
  ``--unlabeled`` training reviews (20,000 by default) unlabeled;
- sentence sets (``--sentence-sets``, MR and SUBJ by default): all their
  training texts labelled, and no extra texts.

``--labelled 21000 --unlabeled 0`` (or 25000) labels every review of the
1,000-label (5,000-label) setting with its true label: the most its
unlabeled reviews could teach.

Models, side by side on each setting:

- ``default``: ``RNNTextClassifier(random_state=seed)`` on the labelled
  texts alone;
- ``pretrain``: the same with ``pretrain="lm"`` (``--pretrain-epochs``),
  fitted on the labelled and unlabeled texts;
- ``tfidf_bigram_lr``: TF-IDF (1-2 grams, ``min_df=2``, sublinear tf) +
  ``LogisticRegression`` on the labelled texts, the strong linear baseline;
- ``self_training`` and ``pretrain_self_training`` (not run by default, and
  slow): the defaults with ``self_training_rounds`` set to
  ``--self-training-rounds`` (3 by default), without and with
  ``pretrain="lm"``, fitted on the labelled and unlabeled texts;
- ``tfidf_self_training`` (not run by default): scikit-learn's
  ``SelfTrainingClassifier`` (its defaults: probability 0.75, ten rounds)
  around that logistic regression, on TF-IDF values learnt from the labelled
  and unlabeled texts;
- ``rnn_self_training`` (not run by default, and slow): the same around
  ``RNNClassifier(random_state=seed)``, on the ids of a ``TextVectorizer``
  fitted on the labelled and unlabeled texts, with ``--self-training-rounds``
  rounds (3 by default), as the user guide shows;
- ``text_self_training`` (not run by default, and slow): the same rounds
  around ``RNNTextClassifier(random_state=seed)`` itself, written out as a
  user would, since ``SelfTrainingClassifier`` refuses texts: each round
  refits on the labelled texts and those the last model gave a probability
  of at least 0.75. Its test accuracy after each round's fit is reported
  too (the time to measure it is not counted in its fit seconds).

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

import numpy as np
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
    tfidf_bigram_lr,
    write_json,
)
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.semi_supervised import SelfTrainingClassifier

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer

MODELS = ("default", "pretrain", "tfidf_bigram_lr")
# self-training around a model: fit takes no sample_weight
WRAPPED_SELF_TRAINING = (
    "tfidf_self_training",
    "rnn_self_training",
    "text_self_training",
)
SELF_TRAINING = ("self_training", "pretrain_self_training", *WRAPPED_SELF_TRAINING)
THRESHOLD = 0.75  # SelfTrainingClassifier's default
# texts without a label: their words are read, as by pretraining
READ_UNLABELED = ("pretrain", *SELF_TRAINING)
QUICK_LABELLED = 200
QUICK_UNLABELED = 400
QUICK_TEST = 300


class SelfTrainingOnTexts:
    """scikit-learn's self-training, which reads numbers, on texts: the
    vectorizer learns from every text, then labels are coded with -1 for
    the texts without one."""

    def __init__(self, vectorizer, classifier, max_iter):
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.max_iter = max_iter

    def fit(self, texts, labels):
        self.vectorizer.fit(texts)
        labelled = np.array([label is not None for label in labels])
        self.classes_ = np.unique([label for label in labels if label is not None])
        codes = np.full(len(labels), -1)
        codes[labelled] = np.searchsorted(
            self.classes_, np.asarray(labels, dtype=object)[labelled].astype(str)
        )
        self.model_ = SelfTrainingClassifier(self.classifier, max_iter=self.max_iter)
        self.model_.fit(self.vectorizer.transform(texts), codes)
        self.n_self_labelled_ = int((self.model_.labeled_iter_ > 0).sum())
        return self

    def predict(self, texts):
        return self.classes_[self.model_.predict(self.vectorizer.transform(texts))]


class SelfTrainingLoop:
    """Self-training of an estimator that reads texts, round by round."""

    def __init__(self, estimator, max_iter, on_round=None):
        self.estimator = estimator
        self.max_iter = max_iter
        self.on_round = on_round

    def fit(self, texts, labels):
        pairs = list(zip(texts, labels, strict=True))
        train_texts = [text for text, label in pairs if label is not None]
        train_labels = [label for _, label in pairs if label is not None]
        pool = [text for text, label in pairs if label is None]
        n_given = len(train_labels)
        for round_ in range(self.max_iter + 1):
            self.model_ = clone(self.estimator).fit(train_texts, train_labels)
            if self.on_round is not None:
                self.on_round(self.model_)
            if round_ == self.max_iter or not pool:
                break
            proba = self.model_.predict_proba(pool)
            sure = proba.max(axis=1) >= THRESHOLD
            if not sure.any():
                break
            train_texts += [text for text, keep in zip(pool, sure, strict=True) if keep]
            train_labels += self.model_.classes_[proba.argmax(axis=1)][sure].tolist()
            pool = [text for text, keep in zip(pool, sure, strict=True) if not keep]
        self.n_self_labelled_ = len(train_labels) - n_given
        self.n_epochs_ = self.model_.n_epochs_
        return self

    def predict(self, texts):
        return self.model_.predict(texts)


def build_model(model, seed, pretrain_epochs, rounds, overrides):
    if model == "tfidf_bigram_lr":
        return tfidf_bigram_lr()
    if model == "tfidf_self_training":
        vectorizer, classifier = (step for _, step in tfidf_bigram_lr().steps)
        return SelfTrainingOnTexts(vectorizer, classifier, max_iter=10)
    if model == "text_self_training":
        return SelfTrainingLoop(
            RNNTextClassifier(random_state=seed, **overrides), rounds
        )
    if model == "rnn_self_training":
        return SelfTrainingOnTexts(
            TextVectorizer(), RNNClassifier(random_state=seed, **overrides), rounds
        )
    params = {"random_state": seed, **overrides}
    if model in ("pretrain", "pretrain_self_training"):
        params.update(pretrain="lm", pretrain_epochs=pretrain_epochs)
    if model in ("self_training", "pretrain_self_training"):
        params.update(self_training_rounds=rounds)
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
        job["model"],
        job["seed"],
        job["pretrain_epochs"],
        job["self_training_rounds"],
        job["overrides"],
    )
    fit_params = {}
    if job["model"] in READ_UNLABELED:
        texts, labels = texts + extra, labels + [None] * len(extra)
        if job["unlabeled_weight"] is not None:
            weights = np.ones(len(texts))
            weights[labelled:] = job["unlabeled_weight"]
            fit_params["sample_weight"] = weights
    round_accuracy, scoring_seconds = [], []

    def score_round(model):
        started = time.perf_counter()
        round_accuracy.append(accuracy_score(test_labels, model.predict(test_texts)))
        scoring_seconds.append(time.perf_counter() - started)

    if isinstance(estimator, SelfTrainingLoop):
        estimator.on_round = score_round
    start = time.perf_counter()
    estimator.fit(texts, labels, **fit_params)
    seconds = time.perf_counter() - start - sum(scoring_seconds)
    return {
        "setting": job["setting"],
        "model": job["model"],
        "n_labelled": labelled,
        "n_unlabeled": len(extra) if job["model"] in READ_UNLABELED else 0,
        "accuracy": float(accuracy_score(test_labels, estimator.predict(test_texts))),
        "fit_seconds": seconds,
        "epochs": getattr(estimator, "n_epochs_", None),
        "pretrain_loss": getattr(estimator, "pretrain_loss_", None),
        "self_labelled": self_labelled(estimator),
        "round_accuracy": [float(value) for value in round_accuracy],
    }


def self_labelled(estimator):
    """How many texts a self-training model labelled itself, or None."""
    per_round = getattr(estimator, "self_labelled_per_round_", None)
    if per_round is not None:
        return sum(per_round)
    return getattr(estimator, "n_self_labelled_", None)


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
    parser.add_argument("--self-training-rounds", type=int, default=3)
    parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=MODELS + SELF_TRAINING
    )
    parser.add_argument(
        "--unlabeled-weight",
        type=float,
        help="sample_weight of the unlabeled texts (the labelled ones weigh 1), "
        "which the texts self-training labels keep; for the estimator's own "
        "models only",
    )
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
    wrapped = sorted(set(args.models) & set(WRAPPED_SELF_TRAINING))
    if args.unlabeled_weight is not None and wrapped:
        parser.error(
            "--unlabeled-weight is passed to RNNTextClassifier.fit only: not "
            f"with {', '.join(wrapped)}"
        )
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
            "self_training_rounds": args.self_training_rounds,
            "unlabeled_weight": args.unlabeled_weight,
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
            "self-labelled": fmt(result["self_labelled"], 0),
            "accuracy % per round": " ".join(
                f"{100 * value:.1f}" for value in result.get("round_accuracy", [])
            ),
        }
        for result in results
    ]
    print_table("Test accuracy and fit time", rows)
    write_json(args.json, "bench_unlabeled", args, results)


if __name__ == "__main__":
    main()
