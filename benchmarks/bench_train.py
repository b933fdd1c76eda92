"""Training benchmark: RNNTextClassifier against a fixed-length skorch LSTM and TF-IDF.

For each dataset, on one shuffled train/test split, with one ``max_len`` (by
default the 95th percentile of the training texts' token counts, rounded up)
and one number of epochs, three models are fitted:

- ``sklearn_rnn``: ``RNNTextClassifier`` (bidirectional LSTM, embedding 100,
  hidden 128, batch 64, Adam lr 1e-3; its other parameters at their defaults,
  so dropout 0.2 and gradient clipping at 5 included);
- ``fixed_length``: the usual hand-written baseline, the same ids padded to
  exactly ``max_len`` and a plain bidirectional LSTM that reads every position
  and pools its final states, trained by a stock skorch
  ``NeuralNetClassifier`` (same sizes, no dropout, no clipping);
- ``tfidf``: ``TfidfVectorizer(ngram_range=(1, 2), min_df=2)`` +
  ``LogisticRegression(max_iter=1000)``.

Every fit starts from raw texts (vectorizing is part of it) and runs in its
own fresh process, so one model's memory does not show in another's peak,
after an untimed warm-up fit of the same model on 64 texts for 1 epoch.
Real tokens per second = epochs * non-padding training tokens (texts cut at
``max_len``) / fit seconds. The "ceiling" is the speed-up that skipping
padding alone can give: n_train * max_len / real tokens.
"""

from statistics import median

from _common import (
    FixedLengthTextClassifier,
    add_subset_options,
    alternating_order,
    choose_max_len,
    fmt,
    length_summary,
    load_texts,
    make_parser,
    parse_args,
    print_table,
    real_tokens,
    rnn_text_classifier,
    run_isolated,
    run_per_dataset,
    set_threads,
    timed_with_memory,
    token_lengths,
    warm_up_fit,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

MODELS = ("sklearn_rnn", "fixed_length", "tfidf")
DEFAULT_MAX_TRAIN = {"imdb": 5000}  # other datasets: all training texts
DEFAULT_MAX_TEST = {"imdb": 5000}  # other datasets: all test texts
QUICK_MAX_TRAIN = 200
QUICK_MAX_TEST = 100


def build_model(model, max_len, epochs, seed):
    if model == "sklearn_rnn":
        return rnn_text_classifier(max_len, epochs, seed)
    if model == "fixed_length":
        return FixedLengthTextClassifier(max_len, epochs, seed)
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2),
        LogisticRegression(max_iter=1000),
    )


def describe_dataset(data_dir, dataset, max_train, max_test, max_len, quick, seed):
    """Sizes, max_len and real-token count of a dataset's benchmark split."""
    texts, labels = load_texts(data_dir, dataset, "train", max_train, seed)
    test_texts, _ = load_texts(data_dir, dataset, "test", max_test, seed)
    lengths = token_lengths(texts)
    max_len = choose_max_len(lengths, max_len, quick)
    return {
        "n_train": len(texts),
        "n_test": len(test_texts),
        "n_classes": len(set(labels)),
        "max_len": max_len,
        "real_tokens": real_tokens(lengths, max_len),
        "train_token_lengths": length_summary(lengths),
    }


def fit_worker(
    model, data_dir, dataset, max_train, max_test, max_len, epochs, seed, threads
):
    """Fit one model and score it; meant to run in a fresh process."""
    set_threads(threads)
    texts, labels = load_texts(data_dir, dataset, "train", max_train, seed)
    test_texts, test_labels = load_texts(data_dir, dataset, "test", max_test, seed)
    warm_up_fit(build_model(model, max_len, 1, seed), texts, labels)
    estimator = build_model(model, max_len, epochs, seed)
    _, seconds, memory = timed_with_memory(lambda: estimator.fit(texts, labels))
    result = {"fit_seconds": seconds, **memory}
    result["test_accuracy"] = float(
        (estimator.predict(test_texts) == test_labels).mean()
    )
    if model == "sklearn_rnn":
        result["n_epochs_"] = estimator.n_epochs_
        result["epoch_seconds"] = [row["dur"] for row in estimator.history_]
    return result


def benchmark_dataset(args, dataset):
    max_train = args.max_train or DEFAULT_MAX_TRAIN.get(dataset)
    max_test = args.max_test or DEFAULT_MAX_TEST.get(dataset)
    split = {"data_dir": args.data_dir, "dataset": dataset, "seed": args.seed}
    split.update(max_train=max_train, max_test=max_test)
    # Loading happens in child processes only, so that this process stays
    # small: a child's ru_maxrss starts at least at its parent's peak.
    info = run_isolated(
        describe_dataset, **split, max_len=args.max_len, quick=args.quick
    )
    runs = {model: [] for model in MODELS}
    for repeat in range(args.repeat):
        for model in alternating_order(MODELS, repeat):
            print(f"  {dataset}: fitting {model} (repeat {repeat + 1}/{args.repeat})")
            runs[model].append(
                run_isolated(
                    fit_worker,
                    model=model,
                    **split,
                    max_len=info["max_len"],
                    epochs=args.epochs,
                    threads=args.threads,
                )
            )
    return summarize(dataset, info, runs, args.epochs)


def summarize(dataset, info, runs, epochs):
    """Medians over repeats, tokens per second, speed-up and its ceiling."""
    models = {}
    for model, model_runs in runs.items():
        seconds = median(run["fit_seconds"] for run in model_runs)
        models[model] = {
            "fit_seconds": seconds,
            "real_tokens_per_second": (
                None if model == "tfidf" else epochs * info["real_tokens"] / seconds
            ),
            **{
                key: median(run[key] for run in model_runs)
                for key in (
                    "rss_before_mb",
                    "peak_rss_mb",
                    "fit_peak_mb",
                    "ru_maxrss_mb",
                )
            },
            "test_accuracy": median(run["test_accuracy"] for run in model_runs),
            "runs": model_runs,
        }
    speedup = (
        models["fixed_length"]["fit_seconds"] / models["sklearn_rnn"]["fit_seconds"]
    )
    ceiling = info["n_train"] * info["max_len"] / info["real_tokens"]
    return {
        "dataset": dataset,
        "epochs": epochs,
        **info,
        "models": models,
        "speedup_over_fixed_length": speedup,
        "ceiling": ceiling,
        "speedup_of_ceiling_percent": 100 * speedup / ceiling,
    }


def report(results):
    model_rows, ratio_rows = [], []
    for result in results:
        for model, figures in result["models"].items():
            model_rows.append(
                {
                    "dataset": result["dataset"],
                    "model": model,
                    "n_train": result["n_train"],
                    "max_len": result["max_len"],
                    "fit s": fmt(figures["fit_seconds"], 2),
                    "real tok/s": fmt(figures["real_tokens_per_second"], 0),
                    "RSS before MB": fmt(figures["rss_before_mb"], 0),
                    "peak MB": fmt(figures["peak_rss_mb"], 0),
                    "peak-before MB": fmt(figures["fit_peak_mb"], 0),
                    "ru_maxrss MB": fmt(figures["ru_maxrss_mb"], 0),
                    "test acc": fmt(figures["test_accuracy"], 4),
                }
            )
        ratio_rows.append(
            {
                "dataset": result["dataset"],
                "speed-up sklearn_rnn / fixed_length": fmt(
                    result["speedup_over_fixed_length"], 2
                )
                + "x",
                "ceiling n_train*max_len/real": fmt(result["ceiling"], 2) + "x",
                "speed-up / ceiling": fmt(result["speedup_of_ceiling_percent"], 0)
                + "%",
            }
        )
    print_table(
        "Per model (medians over repeats; fit includes vectorizing)", model_rows
    )
    print_table("Ratios", ratio_rows)


def main():
    parser = make_parser(__doc__, ["imdb", "sst2", "trec"])
    add_subset_options(
        parser,
        "training texts per dataset; if unset, 5000 for imdb, all for others",
        "test texts per dataset; if unset, 5000 for imdb, all for others",
    )
    parser.add_argument("--epochs", type=int, default=2, help="training epochs")
    parser.add_argument(
        "--repeat", type=int, default=1, help="fits per model, in alternating order"
    )
    args = parse_args(parser)
    if args.quick:
        args.max_train = args.max_train or QUICK_MAX_TRAIN
        args.max_test = args.max_test or QUICK_MAX_TEST
        args.epochs = 1
    run_per_dataset("bench_train", args, benchmark_dataset, report)


if __name__ == "__main__":
    main()
