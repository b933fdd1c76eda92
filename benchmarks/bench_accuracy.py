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
  ``sublinear_tf=True``, a stronger, tuned-by-habit baseline, for context;
- ``fasttext``: fastText's supervised classifier with word bigrams
  (``wordNgrams=2``, ``epoch=25``), when the ``fasttext`` module is installed
  (``pip install fasttext-wheel``): the speed reference practitioners know;
- ``baseline``: with ``--baseline PATH``, ``RNNTextClassifier(random_state=
  seed)`` imported from the checkout at PATH (a ``git worktree`` of an earlier
  commit), so that a change to the defaults is measured against the library
  before it, in the same run. It is fitted right before or after
  ``default`` on each dataset, in turn, and the report gives their fit-time
  ratio. ``--set`` applies to it only with ``--baseline-same-set``, which
  times a change that keeps the defaults (``--set early_stopping=False
  max_epochs=2 --baseline-same-set``: the same work in both checkouts).

Every model is fitted in a fresh interpreter. Reported: test accuracy,
macro-F1, fit seconds (vectorizing included) and, for the RNNs, the epochs
trained. ``--set name=value`` overrides a parameter
of the RNN models (values are Python literals), to compare candidate defaults
with the same script. ``--jobs 2`` fits two models at once, each in its own
process with ``--threads`` threads: accuracies are unchanged, fit seconds are
slower than alone and comparable only within a run. ``--bag-lr-factor``
changes how much faster than ``lr`` the bag of words learns.
"""

import importlib.util
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

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
MODELS = (*RNN_MODELS, "tfidf_lr", "tfidf_bigram_lr", "fasttext", "baseline")
# models run unless --models names others
DEFAULT_MODELS = (*RNN_MODELS, "tfidf_lr", "tfidf_bigram_lr")
FASTTEXT_EPOCHS = 25
QUICK_MAX_TRAIN = 300
QUICK_MAX_TEST = 200


def build_model(model, seed, overrides):
    if model == "baseline":
        # the earlier checkout's defaults: main() gives it --set's overrides
        # only with --baseline-same-set
        return RNNTextClassifier(random_state=seed, **overrides)
    if model in RNN_MODELS:
        params = {"random_state": seed, **RNN_MODELS[model], **overrides}
        return RNNTextClassifier(**params)
    if model == "fasttext":
        return FastTextClassifier(seed)
    if model == "tfidf_lr":
        return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    return tfidf_bigram_lr()


def fit_and_score(*, data_dir, dataset, model, seed, max_train, max_test, threads,
                  overrides, bag_lr_factor=None):  # fmt: skip
    """Fit one model on one dataset in this process; return its figures."""
    set_threads(threads)
    if bag_lr_factor is not None:
        import sklearn_rnn._net_builder as net_builder

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


class FastTextClassifier:
    """fastText's supervised classifier as a practitioner runs it: one text a
    line, lowercased, with word bigrams and the 25 epochs fastText's tutorial
    uses on small data (its default of 5 leaves sets of a few thousand texts
    near chance); fit seconds include writing the file."""

    def __init__(self, seed):
        self.seed = seed

    def fit(self, texts, labels):
        import fasttext

        self.classes_ = np.unique(labels)
        index = {label: i for i, label in enumerate(self.classes_)}
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
            for text, label in zip(texts, labels, strict=True):
                file.write(f"__label__{index[label]} {_one_line(text)}\n")
        try:
            self.model_ = fasttext.train_supervised(
                file.name,
                wordNgrams=2,
                epoch=FASTTEXT_EPOCHS,
                seed=self.seed,
                thread=1,
                verbose=0,
            )
        finally:
            os.unlink(file.name)
        return self

    def predict(self, texts):
        predicted, _ = self.model_.predict([_one_line(text) for text in texts])
        prefix = len("__label__")
        return self.classes_[[int(labels[0][prefix:]) for labels in predicted]]


def _one_line(text):
    return " ".join(text.lower().split())


def run_job(job, baseline):
    """Fit and score one job in a fresh interpreter; the baseline model
    imports the library from the ``baseline`` checkout."""
    env = dict(os.environ)
    if job["model"] == "baseline":
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(baseline), env.get("PYTHONPATH")])
        )
    return run_worker(__file__, job, f"{job['model']} on {job['dataset']}", env)


def make_job(args, dataset, model, overrides, bag_lr_factor=None):
    """The job fitting ``model`` on ``dataset`` with the command line's data,
    seed and threads: the keyword arguments of :func:`fit_and_score`."""
    return {
        "data_dir": str(args.data_dir),
        "dataset": dataset,
        "model": model,
        "seed": args.seed,
        "max_train": args.max_train,
        "max_test": args.max_test,
        "threads": args.threads,
        "overrides": overrides,
        "bag_lr_factor": bag_lr_factor,
    }


def run_all(jobs, args, script, run, name="model"):
    """Run ``jobs`` through ``run``, ``args.jobs`` at a time, printing each
    result and saving all so far to ``args.json`` as they come, so that an
    interrupted run keeps what it measured. Returns the results in job order.
    """
    results = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(run, jobs):
            results.append(result)
            print(
                f"  {result['dataset']:>12} {result[name]:>18}: accuracy "
                f"{result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, "
                f"{result['fit_seconds']:.0f} s, epochs {result['epochs']}",
                flush=True,
            )
            write_json(args.json, script, args, results, quiet=True)
    print()
    return results


def worker():
    """Run the job given as JSON on stdin; print its result as JSON."""
    job = json.loads(sys.stdin.read())
    job["data_dir"] = Path(job["data_dir"])
    result = fit_and_score(**job)
    import sklearn_rnn

    result["library"] = str(Path(sklearn_rnn.__file__).parent)
    print(json.dumps(result))


def report(results):
    rows = []
    for dataset in dict.fromkeys(result["dataset"] for result in results):
        figures = {r["model"]: r for r in results if r["dataset"] == dataset}
        linear = figures.get("tfidf_lr")
        baseline = figures.get("baseline")
        for model, result in figures.items():
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "n_train": f"{result['n_train']:,}",
                    "accuracy": fmt(100 * result["accuracy"], 1),
                    "vs tfidf_lr": _gap(result, linear, model != "tfidf_lr"),
                    "vs baseline": _gap(result, baseline, model == "default"),
                    "macro-F1": fmt(100 * result["macro_f1"], 1),
                    "fit s": fmt(result["fit_seconds"], 0),
                    "fit / baseline": (
                        fmt(result["fit_seconds"] / baseline["fit_seconds"], 2)
                        if baseline and model == "default"
                        else ""
                    ),
                    "epochs": (
                        ""
                        if result["epochs"] is None
                        else f"{result['epochs']} (best {result['best_epoch']})"
                    ),
                }
            )
    print_table("Test accuracy and macro-F1 (%), fit seconds", rows)


def _gap(result, reference, shown):
    if reference is None or not shown:
        return ""
    return f"{100 * (result['accuracy'] - reference['accuracy']):+.1f}"


def main():
    if sys.argv[1:] == ["--worker"]:
        worker()
        return
    parser = make_parser(__doc__, DATASETS)
    parser.add_argument(
        "--models", nargs="+", default=list(DEFAULT_MODELS), choices=MODELS
    )
    parser.add_argument("--max-train", type=int, help="cut the training set")
    parser.add_argument("--max-test", type=int, help="cut the test set")
    parser.add_argument("--jobs", type=int, default=1, help="models fitted at once")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="PATH",
        help="a checkout of an earlier commit (git worktree add PATH COMMIT): "
        "adds its defaults as the model 'baseline'",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter of the RNN models (not of 'baseline')",
    )
    parser.add_argument(
        "--baseline-same-set",
        action="store_true",
        help="apply --set to 'baseline' too: the same settings in both checkouts, "
        "to time a change that keeps the defaults",
    )
    parser.add_argument(
        "--bag-lr-factor",
        type=float,
        help="the bag of words' learning rate over lr (default: the library's, 10)",
    )
    args = parse_args(parser)
    overrides = parse_overrides(args.set, parser)
    models = _models(args, parser)
    if args.quick:
        args.max_train = args.max_train or QUICK_MAX_TRAIN
        args.max_test = args.max_test or QUICK_MAX_TEST
        overrides.setdefault("max_epochs", 1)
    args.overrides = overrides
    print_header("bench_accuracy", args)
    if overrides:
        print(f"RNN parameters set: {overrides}\n")
    jobs = [
        make_job(
            args,
            dataset,
            model,
            (
                ({"max_epochs": 1} if args.quick else {})
                if model == "baseline" and not args.baseline_same_set
                else overrides
            ),
            bag_lr_factor=args.bag_lr_factor,
        )
        for round_, dataset in enumerate(args.datasets)
        for model in _in_turn(models, round_)
    ]
    results = run_all(
        jobs, args, "bench_accuracy", lambda job: run_job(job, args.baseline)
    )
    report(results)
    for summary in (summarize(results), summarize_against_baseline(results)):
        if summary:
            print(summary)
    write_json(args.json, "bench_accuracy", args, results)


def _models(args, parser):
    models = list(dict.fromkeys(args.models))
    if args.baseline is not None:
        if not (args.baseline / "sklearn_rnn" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no sklearn_rnn package there")
        models += [] if "baseline" in models else ["baseline"]
    elif "baseline" in models:
        parser.error("the model 'baseline' needs --baseline PATH")
    if "fasttext" in models and importlib.util.find_spec("fasttext") is None:
        print("fasttext is not installed (pip install fasttext-wheel): skipped\n")
        models.remove("fasttext")
    return models


def _in_turn(models, round_):
    """The models in order, with 'default' and 'baseline' swapped every other
    dataset, so that neither always runs first."""
    if round_ % 2 and "default" in models and "baseline" in models:
        i, j = models.index("default"), models.index("baseline")
        models = list(models)
        models[i], models[j] = models[j], models[i]
    return models


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


def summarize_against_baseline(results):
    """The default against the earlier checkout's and TF-IDF bigrams + LR."""
    pairs = []
    for dataset in dict.fromkeys(result["dataset"] for result in results):
        figures = {r["model"]: r for r in results if r["dataset"] == dataset}
        if "default" in figures and "baseline" in figures:
            pairs.append((figures["default"], figures["baseline"], figures))
    if not pairs:
        return ""
    ratios = np.array(
        [new["fit_seconds"] / old["fit_seconds"] for new, old, _ in pairs]
    )
    new_acc = 100 * np.array([new["accuracy"] for new, _, _ in pairs])
    old_acc = 100 * np.array([old["accuracy"] for _, old, _ in pairs])
    lines = [
        f"default vs baseline over {len(pairs)} datasets: fit-time ratio median "
        f"{np.median(ratios):.2f}, largest {ratios.max():.2f}; mean accuracy "
        f"{new_acc.mean():.2f} vs {old_acc.mean():.2f}; worst per-set change "
        f"{(new_acc - old_acc).min():+.1f} points"
    ]
    bigram = [
        100 * (new["accuracy"] - figures["tfidf_bigram_lr"]["accuracy"])
        for new, _, figures in pairs
        if "tfidf_bigram_lr" in figures
    ]
    if bigram:
        lines.append(f"default vs tfidf_bigram_lr: worst gap {min(bigram):+.1f} points")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
