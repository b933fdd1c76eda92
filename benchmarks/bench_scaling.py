"""Training time and memory of RNNTextClassifier as the training set grows.

For each size n (default 1k, 3k, 10k, 30k and 100k texts), in a fresh
interpreter (so that one size's memory cannot show in another's peak), after
an untimed warm-up fit on 64 texts, ``RNNTextClassifier`` is fitted from raw
texts with its defaults except ``max_epochs=--epochs`` (1),
``early_stopping=False`` and a fixed ``random_state``. Without early stopping
every size trains on all its texts (no 10% validation split is held out or
scored) for the same number of epochs, so each size does the same work per
text and a linear cost shows as a constant time per text.

The data. SST-2's training phrases (67,349) are the only real set here with
more than 67k texts, so the pool is **sampled with replacement from SST-2**:
one pool of max(sizes) texts is drawn i.i.d. (``RandomState(--seed)``) from
the training texts of ``--datasets`` (default ``sst2``), and each size is the
first n texts of that pool. Every size is then an i.i.d. sample of one and the
same distribution, so text lengths (and the time per token) are comparable
across sizes, the labels are the same two classes at every size, and the
network's head is the same. Combining data sets (sst2 + agnews_10k + mr + ...)
was rejected: it mixes label sets (the head and the bag-of-words table would
grow with the number of classes) and length distributions (AG News texts are
three times as long as SST-2 phrases). The price of resampling: duplicates
(about 48% of a 100k sample repeats an earlier text; the table shows unique
texts) and a vocabulary that saturates at SST-2's (about 14k words, under the
50k cap). Duplicates cost the network as much time as new texts, but the
vocabulary matters: each training step computes a dense gradient of the whole
embedding table and Adam updates all of it, so the time per batch grows with
the vocabulary, which grows with n (here up to about 14k; a real corpus that
grows keeps adding words up to ``max_features``). The vocabulary and ms/batch
columns show it.

Reported per size (medians over ``--repeat`` runs, sizes in alternating
order): texts, unique texts, tokens (non-padding, texts cut at ``max_len``),
vocabulary (``n_tokens_``), fit seconds (vectorizing included), seconds of
skorch's training loop (sum of ``history_`` epoch durations) and per batch,
seconds of
``TextVectorizer(<the classifier's text parameters>).fit_transform`` on the
same texts, timed separately after the fit (a lower bound of the fit's
vectorizing, which also counts tokens for the bag of words; its memory is not
measured, as it would reuse the heap the fit freed), seconds per 1k
texts and per 1k tokens, and seconds per 1k texts relative to the smallest
and the largest size (near 1 = linear growth); RSS before the fit, the peak
during it above that (``VmHWM`` reset just before the fit) and MB per 1k
texts. At the end: least-squares slopes k in log-log space (y ~ n^k; k = 1 is
linear) for time and memory, and the straight line y = a + b n, which splits
a figure into a fixed part a and a part b per 1k texts (a fixed part pulls k
below 1 although the growth is linear).
"""

import gc
import time
from functools import partial
from statistics import median

import numpy as np
from _common import (
    QUICK_MAX_LEN,
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    real_tokens,
    run_isolated,
    set_threads,
    timed,
    timed_with_memory,
    token_lengths,
    warm_up_fit,
    write_json,
)

import sklearn_rnn
from sklearn_rnn import RNNTextClassifier, TextVectorizer

DEFAULT_SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)
QUICK_SIZES = (100, 300, 1_000)


def parse_size(text):
    """A number of texts: ``2500``, ``3k`` or ``0.1m``."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = float(text[:-1] if factor > 1 else text)
    if number * factor < 1:
        raise ValueError(text)
    return int(round(number * factor))


def pool(data_dir, datasets, size, seed):
    """``size`` texts and labels drawn with replacement from the data sets."""
    parts = [load_texts(data_dir, name, "train", seed=seed) for name in datasets]
    texts = np.array([text for part in parts for text in part[0]], dtype=object)
    labels = np.concatenate([part[1] for part in parts])
    index = np.random.RandomState(seed).randint(len(texts), size=size)
    return texts[index].tolist(), labels[index]


def classifier(epochs, seed, quick):
    params = {"max_len": QUICK_MAX_LEN} if quick else {}
    return RNNTextClassifier(
        max_epochs=epochs, early_stopping=False, random_state=seed, **params
    )


def fit_worker(size, pool_size, data_dir, datasets, epochs, seed, threads, quick):
    """Fit on the first ``size`` texts of the pool; meant for a fresh process."""
    set_threads(threads)
    texts, labels = pool(data_dir, datasets, pool_size, seed)
    texts, labels = texts[:size], labels[:size]
    warm_up_fit(classifier(1, seed, quick), texts, labels)
    estimator = classifier(epochs, seed, quick)
    _, fit_seconds, memory = timed_with_memory(partial(estimator.fit, texts, labels))
    result = {
        "n_texts": size,
        "fit_seconds": fit_seconds,
        **memory,
        "train_loop_seconds": sum(row["dur"] for row in estimator.history_),
        "n_epochs_": estimator.n_epochs_,
        "vocabulary": estimator.n_tokens_,
        "n_batches": estimator.n_epochs_ * -(-size // estimator.batch_size),
    }
    text_params = TextVectorizer().get_params()
    vectorizer = TextVectorizer(
        **{k: v for k, v in estimator.get_params().items() if k in text_params}
    )
    max_len = estimator.max_len
    del estimator
    gc.collect()
    # Its time only: its peak would hide in the heap that the fit freed.
    _, result["vectorizer_seconds"] = timed(partial(vectorizer.fit_transform, texts))
    result["n_tokens"] = real_tokens(token_lengths(texts), max_len)
    result["n_unique_texts"] = len(set(texts))
    return result


def summarize(runs):
    """Medians over repeats of each size's figures."""
    keys = [key for key, value in runs[0].items() if isinstance(value, (int, float))]
    return {key: median(run[key] for run in runs) for key in keys} | {"runs": runs}


def loglog_slope(x, y):
    """Least-squares k and R^2 of log y = k log x + c; None if any y <= 0."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or (y <= 0).any():
        return None, None
    log_x, log_y = np.log(x), np.log(y)
    k, c = np.polyfit(log_x, log_y, 1)
    residual = log_y - (k * log_x + c)
    total = ((log_y - log_y.mean()) ** 2).sum()
    return float(k), float(1 - (residual**2).sum() / total) if total else None


def linear_fit(x, y):
    """Least-squares intercept a and slope b of y = a + b x."""
    if len(x) < 2:
        return None, None
    b, a = np.polyfit(np.asarray(x, dtype=float), np.asarray(y, dtype=float), 1)
    return float(a), float(b)


def report(sizes):
    first, last = sizes[0], sizes[-1]

    def per_1k(size, key, per="n_texts"):
        return 1000 * size[key] / size[per]

    time_rows, memory_rows = [], []
    for size in sizes:
        per_text = per_1k(size, "fit_seconds")
        time_rows.append(
            {
                "texts": f"{size['n_texts']:,}",
                "unique": f"{size['n_unique_texts']:,.0f}",
                "tokens": f"{size['n_tokens']:,.0f}",
                "vocabulary": f"{size['vocabulary']:,.0f}",
                "fit s": fmt(size["fit_seconds"], 2),
                "train loop s": fmt(size["train_loop_seconds"], 2),
                "ms/batch": fmt(
                    1000 * size["train_loop_seconds"] / size["n_batches"], 1
                ),
                "vectorizer s": fmt(size["vectorizer_seconds"], 2),
                "vectorizer % of fit": fmt(
                    100 * size["vectorizer_seconds"] / size["fit_seconds"], 1
                ),
                "s/1k texts": fmt(per_text, 3),
                "s/1k tokens": fmt(per_1k(size, "fit_seconds", "n_tokens"), 4),
                "vs smallest": fmt(per_text / per_1k(first, "fit_seconds"), 2),
                "vs largest": fmt(per_text / per_1k(last, "fit_seconds"), 2),
            }
        )
        per_text_mb = per_1k(size, "fit_peak_mb")
        memory_rows.append(
            {
                "texts": f"{size['n_texts']:,}",
                "RSS before MB": fmt(size["rss_before_mb"], 0),
                "peak MB": fmt(size["peak_rss_mb"], 0),
                "peak - before MB": fmt(size["fit_peak_mb"], 1),
                "MB/1k texts": fmt(per_text_mb, 2),
                "vs smallest": fmt(per_text_mb / per_1k(first, "fit_peak_mb"), 2),
                "vs largest": fmt(per_text_mb / per_1k(last, "fit_peak_mb"), 2),
            }
        )
    print_table(
        "Time (fit includes vectorizing; vs smallest/largest: s per 1k texts "
        "relative to that size's, 1.00 = linear)",
        time_rows,
    )
    print_table(
        "Memory (peak RSS during fit above RSS before it; vs smallest/largest: "
        "MB per 1k texts relative to that size's)",
        memory_rows,
    )
    n_texts = [size["n_texts"] for size in sizes]
    n_tokens = [size["n_tokens"] for size in sizes]
    slopes = []
    for label, key, x in (
        ("fit s vs texts", "fit_seconds", n_texts),
        ("fit s vs tokens", "fit_seconds", n_tokens),
        ("train loop s vs texts", "train_loop_seconds", n_texts),
        ("vectorizer s vs texts", "vectorizer_seconds", n_texts),
        ("peak - before MB vs texts", "fit_peak_mb", n_texts),
        ("peak MB (absolute) vs texts", "peak_rss_mb", n_texts),
    ):
        y = [size[key] for size in sizes]
        k, r2 = loglog_slope(x, y)
        fixed, per_one = linear_fit(x, y)
        slopes.append(
            {
                "quantity": label,
                "k": k,
                "R^2": r2,
                "linear_fixed": fixed,
                "linear_per_1k": None if per_one is None else 1000 * per_one,
            }
        )
    print_table(
        "Log-log least-squares slopes, y ~ n^k (k = 1: linear); and the "
        "straight line y = a + b n (a: fixed part; b per 1k texts or tokens)",
        [
            {
                "y ~ n^k": row["quantity"],
                "k": fmt(row["k"], 3),
                "R^2 (log-log)": fmt(row["R^2"], 4),
                "a": fmt(row["linear_fixed"], 2),
                "b per 1k": fmt(row["linear_per_1k"], 3),
            }
            for row in slopes
        ],
    )
    return slopes


def main():
    parser = make_parser(__doc__, ["sst2"])
    parser.add_argument(
        "--sizes",
        type=parse_size,
        nargs="+",
        default=list(DEFAULT_SIZES),
        help="training set sizes, e.g. 1k 3k 10k 30k 100k",
    )
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    parser.add_argument(
        "--repeat", type=int, default=1, help="fits per size, in alternating order"
    )
    args = parse_args(parser)
    if args.quick:
        args.sizes = QUICK_SIZES if args.sizes == list(DEFAULT_SIZES) else args.sizes
        args.epochs = 1
    args.sizes = sorted(set(args.sizes))
    set_threads(args.threads)
    print_header("bench_scaling", args)
    print(f"sklearn_rnn {sklearn_rnn.__version__} from {sklearn_rnn.__path__[0]}")
    print(
        f"pool: {max(args.sizes):,} texts drawn with replacement from the training "
        f"texts of {' '.join(args.datasets)}; size n = its first n texts; "
        f"{args.epochs} epoch(s), early_stopping=False"
    )
    runs = {size: [] for size in args.sizes}
    for repeat in range(args.repeat):
        order = args.sizes if repeat % 2 == 0 else args.sizes[::-1]
        for size in order:
            result = run_isolated(
                fit_worker,
                size=size,
                pool_size=max(args.sizes),
                data_dir=args.data_dir,
                datasets=args.datasets,
                epochs=args.epochs,
                seed=args.seed,
                threads=args.threads,
                quick=args.quick,
            )
            runs[size].append(result)
            print(
                f"  {size:,} texts (repeat {repeat + 1}/{args.repeat}): "
                f"fit {result['fit_seconds']:.2f} s, "
                f"peak - before {result['fit_peak_mb']:.1f} MB, "
                f"{time.strftime('%H:%M:%S')}",
                flush=True,
            )
    print()
    sizes = [summarize(runs[size]) for size in args.sizes]
    slopes = report(sizes)
    write_json(args.json, "bench_scaling", args, {"sizes": sizes, "slopes": slopes})


if __name__ == "__main__":
    main()
