"""Prediction benchmark: RNNTextClassifier against the fixed-length skorch baseline.

For each dataset, a ``RNNTextClassifier`` (the shared sizes of ``_common``) is
fitted for 1 epoch on a small training subset, and the fixed-length baseline
(bidirectional LSTM over texts padded to ``max_len``, stock skorch) is built
with the same vocabulary and sizes but left UNTRAINED: its weights do not
change its speed, and only speed is measured here. Both start from raw texts
(the baseline vectorizes with the same ``TextVectorizer`` settings, then pads
to exactly ``max_len``), and are timed side by side:

- batch ``predict_proba`` over the test texts: texts per second, best of
  ``--runs``;
- single-text ``predict`` latency, p50 and p99 over ``--calls`` calls after a
  warm-up, the two models called in turn;
- ``TextVectorizer.fit_transform`` on the test texts, with its default
  ``max_len`` and keeping every token, next to scikit-learn's
  ``CountVectorizer.fit_transform`` with a pattern giving the same tokens (runs
  of word characters, or single punctuation marks) and with its default one:
  texts and tokens per second, best of ``--runs``.
"""

import time
from functools import partial

import numpy as np
from _common import (
    FixedLengthTextClassifier,
    add_subset_options,
    alternating_order,
    best_times,
    choose_max_len,
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_table,
    real_tokens,
    rnn_text_classifier,
    run_per_dataset,
    token_lengths,
)
from sklearn.feature_extraction.text import CountVectorizer

from sklearn_rnn import TextVectorizer

DEFAULT_MAX_TRAIN = 2000
DEFAULT_MAX_TEST = {"imdb": 2000}  # other datasets: all test texts
QUICK_MAX_TRAIN = 200
QUICK_MAX_TEST = 200
QUICK_CALLS = 30
WARM_UP_CALLS = 20
# TextVectorizer's default tokens, as a plain regular expression: runs of word
# characters, or single punctuation marks. (Its built-in pattern also keeps
# combining marks inside words; compare the token counts in the results.)
WORD_OR_PUNCTUATION = r"(?u)\w+|[^\w\s]"


def single_text_latencies(models, texts, calls):
    """p50 and p99 milliseconds of ``predict([text])``, the models in turn."""
    milliseconds = {name: [] for name in models}
    for call in range(WARM_UP_CALLS + calls):
        text = [texts[call % len(texts)]]
        for name in alternating_order(models, call):
            start = time.perf_counter()
            models[name].predict(text)
            if call >= WARM_UP_CALLS:
                milliseconds[name].append(1000 * (time.perf_counter() - start))
    return {
        name: {f"p{q}_ms": float(np.percentile(values, q)) for q in (50, 99)}
        for name, values in milliseconds.items()
    }


def vectorizer_throughput(texts, runs):
    """Texts and tokens per second of four vectorizers' ``fit_transform``."""
    vectorizers = {
        "TextVectorizer()": TextVectorizer(),
        "TextVectorizer(max_len=None)": TextVectorizer(max_len=None),
        "CountVectorizer(word|punct pattern)": CountVectorizer(
            token_pattern=WORD_OR_PUNCTUATION
        ),
        "CountVectorizer()": CountVectorizer(),
    }
    seconds, outputs = best_times(
        {name: partial(vec.fit_transform, texts) for name, vec in vectorizers.items()},
        runs,
    )
    figures = {}
    for name, output in outputs.items():
        # Non-padding ids for TextVectorizer, summed counts for CountVectorizer.
        n_tokens = int(output.sum() if "Count" in name else np.count_nonzero(output))
        figures[name] = {
            "seconds": seconds[name],
            "tokens": n_tokens,
            "texts_per_second": len(texts) / seconds[name],
            "tokens_per_second": n_tokens / seconds[name],
        }
    return figures


def benchmark_dataset(args, dataset):
    max_train = args.max_train or (QUICK_MAX_TRAIN if args.quick else DEFAULT_MAX_TRAIN)
    max_test = args.max_test or (
        QUICK_MAX_TEST if args.quick else DEFAULT_MAX_TEST.get(dataset)
    )
    texts, labels = load_texts(args.data_dir, dataset, "train", max_train, args.seed)
    test_texts, _ = load_texts(args.data_dir, dataset, "test", max_test, args.seed)
    max_len = choose_max_len(token_lengths(texts), args.max_len, args.quick)
    print(f"  {dataset}: fitting (max_len={max_len}, {len(texts)} texts)")
    models = {
        "sklearn_rnn": rnn_text_classifier(max_len, 1, args.seed),
        "fixed_length": FixedLengthTextClassifier(max_len, 0, args.seed),  # untrained
    }
    for model in models.values():
        model.fit(texts, labels)
    print(f"  {dataset}: batch predict_proba on {len(test_texts)} texts")
    predict_all = {
        name: partial(model.predict_proba, test_texts) for name, model in models.items()
    }
    batch_seconds, _ = best_times(predict_all, args.runs)
    print(f"  {dataset}: {args.calls} single-text predict calls per model")
    latency = single_text_latencies(models, test_texts, args.calls)
    print(f"  {dataset}: vectorizers")
    vectorizing = vectorizer_throughput(test_texts, args.runs)
    test_tokens = real_tokens(token_lengths(test_texts), max_len)
    return {
        "dataset": dataset,
        "n_train": len(texts),
        "n_test": len(test_texts),
        "max_len": max_len,
        # What the fixed-length model computes over what is real, on the test set.
        "ceiling": len(test_texts) * max_len / test_tokens,
        "models": {
            name: {
                "batch_seconds": batch_seconds[name],
                "batch_texts_per_second": len(test_texts) / batch_seconds[name],
                **latency[name],
            }
            for name in models
        },
        "vectorizers": vectorizing,
    }


def report(results):
    model_rows, vectorizer_rows = [], []
    for result in results:
        rnn, fixed = result["models"]["sklearn_rnn"], result["models"]["fixed_length"]
        rows = [
            ("batch predict_proba texts/s", "batch_texts_per_second", 0, False),
            ("single predict p50 ms", "p50_ms", 2, True),
            ("single predict p99 ms", "p99_ms", 2, True),
        ]
        for label, key, digits, lower_is_better in rows:
            ratio = fixed[key] / rnn[key] if lower_is_better else rnn[key] / fixed[key]
            batch_row = key == "batch_texts_per_second"
            model_rows.append(
                {
                    "dataset": result["dataset"],
                    "n_test": result["n_test"],
                    "max_len": result["max_len"],
                    "measure": label,
                    "sklearn_rnn": fmt(rnn[key], digits),
                    "fixed_length": fmt(fixed[key], digits),
                    "sklearn_rnn speed-up": fmt(ratio, 2) + "x",
                    "ceiling": fmt(result["ceiling"], 2) + "x" if batch_row else "",
                    "of ceiling": (
                        fmt(100 * ratio / result["ceiling"], 0) + "%"
                        if batch_row
                        else ""
                    ),
                }
            )
        reference = result["vectorizers"]["TextVectorizer(max_len=None)"]
        for name, figures in result["vectorizers"].items():
            vectorizer_rows.append(
                {
                    "dataset": result["dataset"],
                    "fit_transform": name,
                    "tokens": f"{figures['tokens']:,}",
                    "texts/s": fmt(figures["texts_per_second"], 0),
                    "tokens/s": fmt(figures["tokens_per_second"], 0),
                    "time / TextVectorizer's": fmt(
                        figures["seconds"] / reference["seconds"], 2
                    )
                    + "x",
                }
            )
    print_table("Prediction (fixed_length is untrained: speed only)", model_rows)
    print_table("Vectorizing the test texts (best of --runs)", vectorizer_rows)


def main():
    parser = make_parser(__doc__, ["sst2", "imdb"])
    add_subset_options(
        parser,
        f"training texts for the 1-epoch fit; if unset, {DEFAULT_MAX_TRAIN}",
        "test texts to predict; if unset, 2000 for imdb, all for others",
    )
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    parser.add_argument("--calls", type=int, default=300, help="single-text calls")
    args = parse_args(parser)
    if args.quick:
        args.calls = min(args.calls, QUICK_CALLS)
    run_per_dataset("bench_predict", args, benchmark_dataset, report)


if __name__ == "__main__":
    main()
