"""Shared code of the benchmark scripts.

Command-line arguments, loading and sub-sampling the datasets, token counts,
the hand-written fixed-length baseline, timing, memory, running a call in a
fresh interpreter, and printing and saving results.

Only the public API of sklearn_rnn is used (``RNNTextClassifier``,
``TextVectorizer`` and their fitted attributes), so the scripts keep working
while the library's internals change.
"""

import argparse
import ast
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skorch
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from skorch import NeuralNetClassifier
from tabulate import tabulate
from threadpoolctl import threadpool_limits
from torch import nn

from sklearn_rnn import RNNTextClassifier, TextVectorizer

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

# The network and training settings that every compared neural model shares.
EMBEDDING_DIM = 100
HIDDEN_SIZE = 128
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
MAX_FEATURES = 50_000  # vocabulary size cap, RNNTextClassifier's default
WARM_UP_TEXTS = 64

RATIO_NOTE = (
    "Absolute figures depend on the machine and its load; quote only ratios "
    "between figures measured side by side in one run."
)
QUICK_MAX_LEN = 64
QUICK_NOTE = (
    f"QUICK MODE: tiny subsets, 1 epoch, max_len <= {QUICK_MAX_LEN}, to check "
    "that the script runs. These figures are NOT measurements; do not quote them."
)


# --- command line -----------------------------------------------------------


def make_parser(docstring, default_datasets):
    """An argument parser with the options every benchmark script takes."""
    parser = argparse.ArgumentParser(
        description=docstring.strip().splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding <dataset>/{train,test}.csv.gz",
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(default_datasets), help="folder names"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny subsets, 1 epoch, max_len <= 64: a smoke test, not a measurement",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument(
        "--seed", type=int, default=0, help="shuffling, sub-sampling, weights"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write results")
    return parser


def add_subset_options(parser, max_train_help, max_test_help=None):
    """Options that cut the data: --max-train, --max-test (if helped), --max-len."""
    parser.add_argument("--max-train", type=int, help=max_train_help)
    if max_test_help is not None:
        parser.add_argument("--max-test", type=int, help=max_test_help)
    parser.add_argument(
        "--max-len",
        type=int,
        help="tokens kept per text; if unset, the 95th percentile of training lengths",
    )


def parse_args(parser):
    """Parse the command line and check that every dataset is there."""
    args = parser.parse_args()
    for name in args.datasets:
        if not (args.data_dir / name / "train.csv.gz").is_file():
            parser.error(f"no dataset {name!r} in {args.data_dir}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def set_threads(n_threads):
    """Use ``n_threads`` threads in torch and in the BLAS of numpy/scikit-learn."""
    torch.set_num_threads(n_threads)
    threadpool_limits(limits=n_threads)


# --- data -------------------------------------------------------------------


def tfidf_bigram_lr():
    """The strong linear baseline: TF-IDF of words and word pairs seen in at
    least two texts, sublinear tf, and a logistic regression."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )


def load_texts(data_dir, dataset, split, limit=None, seed=0):
    """Texts and labels of one split, shuffled with ``seed``, then cut to ``limit``.

    Rows are stored grouped by label, so shuffling comes before cutting.
    """
    frame = pd.read_csv(
        Path(data_dir) / dataset / f"{split}.csv.gz", keep_default_na=False
    )
    order = np.random.RandomState(seed).permutation(len(frame))[:limit]
    texts = frame["text"].to_numpy(dtype=object)[order].tolist()
    labels = frame["label"].astype(str).to_numpy()[order]
    return texts, labels


def token_lengths(texts, chunk_size=1000):
    """Number of tokens of each text, as ``TextVectorizer(max_len=None)`` counts.

    An empty text counts as one (unknown) token, as the vectorizer encodes it.
    The texts go through in chunks so that no huge padded matrix is built.
    """
    lengths = [
        np.count_nonzero(
            TextVectorizer(max_len=None).fit_transform(
                texts[start : start + chunk_size]
            ),
            axis=1,
        )
        for start in range(0, len(texts), chunk_size)
    ]
    return np.concatenate(lengths)


def percentile_length(lengths, q=95):
    """The ``q``-th percentile of ``lengths``, rounded up."""
    return int(math.ceil(np.percentile(lengths, q)))


def choose_max_len(lengths, max_len=None, quick=False):
    """``max_len`` if given, else the 95th percentile of ``lengths``.

    In quick mode the percentile is capped at ``QUICK_MAX_LEN``, so that quick
    runs on long texts (IMDB) stay short.
    """
    if max_len is not None:
        return max_len
    percentile = percentile_length(lengths)
    return min(percentile, QUICK_MAX_LEN) if quick else percentile


def real_tokens(lengths, max_len):
    """Non-padding tokens left once every text is cut at ``max_len``."""
    return int(np.minimum(lengths, max_len).sum())


def length_summary(lengths):
    return {
        "mean": float(np.mean(lengths)),
        "median": float(np.median(lengths)),
        "p95": percentile_length(lengths),
        "max": int(np.max(lengths)),
    }


# --- models -----------------------------------------------------------------


def rnn_text_classifier(max_len, max_epochs, seed, batch_size=BATCH_SIZE):
    """``RNNTextClassifier`` with the shared sizes; other parameters at defaults."""
    return RNNTextClassifier(
        max_len=max_len,
        max_features=MAX_FEATURES,
        cell="lstm",
        bidirectional=True,
        embedding_dim=EMBEDDING_DIM,
        hidden_size=HIDDEN_SIZE,
        batch_size=batch_size,
        lr=LEARNING_RATE,
        optimizer="adam",
        max_epochs=max_epochs,
        random_state=seed,
        device="cpu",
    )


class FixedLengthLSTM(nn.Module):
    """The usual hand-written network: it reads every position of a padded matrix.

    Embedding (0 is padding) -> bidirectional LSTM over all ``max_len`` steps,
    no packing -> its final states (forward after the last position, backward
    after the first), padding included -> linear. Pooling the final state is
    what a hand-written model usually does, and the cheapest: a max over all
    padded steps would make the baseline slower.
    """

    def __init__(self, n_tokens, n_classes, embedding_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(
            embedding_dim, hidden_size, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * hidden_size, n_classes)

    def forward(self, ids):
        _, (final, _) = self.lstm(self.embedding(ids))
        return self.head(torch.cat([final[0], final[1]], dim=1))


def warm_up_fit(estimator, texts, labels):
    """Fit ``estimator`` on the first ``WARM_UP_TEXTS`` texts, untimed.

    The first fit in a process pays one-off costs (torch's first optimizer
    imports ``torch._dynamo``: seconds and ~100 MB of RSS) that should not
    count in a measured fit. Give it a 1-epoch model like the measured one.
    """
    estimator.fit(texts[:WARM_UP_TEXTS], labels[:WARM_UP_TEXTS])


def pad_to_length(ids, width):
    """Cut or right-pad a matrix of ids with 0 to exactly ``width`` columns."""
    ids = ids[:, :width]
    return np.pad(ids, ((0, 0), (0, width - ids.shape[1])))


class FixedLengthTextClassifier:
    """Texts -> TextVectorizer ids padded to ``max_len`` -> stock skorch net.

    The baseline is what one usually writes by hand: the same ids as
    ``RNNTextClassifier`` (same vectorizer settings), every text padded to
    exactly ``max_len``, and a plain ``NeuralNetClassifier`` (cross-entropy,
    Adam, no validation split, shuffled batches). ``max_epochs=0`` leaves the
    network untrained, which is enough to time prediction.
    """

    def __init__(self, max_len, max_epochs, seed):
        self.max_len = max_len
        self.max_epochs = max_epochs
        self.seed = seed

    def fit(self, texts, labels):
        self.vectorizer_ = TextVectorizer(
            max_len=self.max_len, max_features=MAX_FEATURES
        )
        ids = pad_to_length(self.vectorizer_.fit_transform(texts), self.max_len)
        self.classes_, y = np.unique(labels, return_inverse=True)
        torch.manual_seed(self.seed)
        self.net_ = NeuralNetClassifier(
            FixedLengthLSTM,
            module__n_tokens=len(self.vectorizer_.vocabulary_) + 2,  # + pad, unknown
            module__n_classes=len(self.classes_),
            module__embedding_dim=EMBEDDING_DIM,
            module__hidden_size=HIDDEN_SIZE,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=LEARNING_RATE,
            batch_size=BATCH_SIZE,
            max_epochs=self.max_epochs,
            train_split=None,
            iterator_train__shuffle=True,
            classes=list(range(len(self.classes_))),
            device="cpu",
            verbose=0,
        )
        self.net_.fit(ids, y.astype(np.int64))
        return self

    def predict_proba(self, texts):
        ids = pad_to_length(self.vectorizer_.transform(texts), self.max_len)
        return self.net_.predict_proba(ids)

    def predict(self, texts):
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]


# --- timing and memory --------------------------------------------------------


def timed(function):
    """Call ``function``; return its result and the wall seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def alternating_order(names, round_):
    """``names`` in order on even rounds and reversed on odd ones."""
    names = list(names)
    return names if round_ % 2 == 0 else names[::-1]


def best_times(functions, runs=3):
    """Time each of ``functions`` (a dict of name to callable) side by side.

    The callables run in turn, ``runs`` rounds, the order reversed every other
    round so that drift in the machine's load hits them alike. Returns the
    best wall time in seconds of each, and the result of its last call.
    """
    seconds = dict.fromkeys(functions, math.inf)
    results = {}
    for round_ in range(runs):
        for name in alternating_order(functions, round_):
            results[name], elapsed = timed(functions[name])
            seconds[name] = min(seconds[name], elapsed)
    return seconds, results


def _proc_status_mb(field):
    """A memory field (e.g. ``VmRSS``) of /proc/self/status in MB, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def current_rss_mb():
    """This process's resident memory now, in MB (Linux), or None."""
    return _proc_status_mb("VmRSS")


def _ru_maxrss_mb():
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def _reset_peak_rss():
    """Reset this process's RSS high-water mark (Linux); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def timed_with_memory(function):
    """Call ``function``; return its result, wall seconds and memory figures.

    Memory, in MB: ``rss_before_mb`` just before the call; ``ru_maxrss_mb``,
    ``getrusage(RUSAGE_SELF).ru_maxrss`` after it; ``peak_rss_mb``, the peak
    during the call; ``fit_peak_mb`` = peak - before.

    On Linux the high-water mark is reset just before the call and the peak
    read from ``VmHWM``: ``ru_maxrss`` also keeps the peak of earlier loading
    and, after fork/exec, the parent's peak RSS, so it can overstate the
    call's peak. Elsewhere ``ru_maxrss`` is the peak. Call this in a fresh
    process (see :func:`run_isolated`).
    """
    gc.collect()
    reset = _reset_peak_rss()
    before = _proc_status_mb("VmRSS") or _ru_maxrss_mb()
    result, seconds = timed(function)
    maxrss = _ru_maxrss_mb()
    high_water = _proc_status_mb("VmHWM") if reset else None
    peak = high_water if high_water is not None else maxrss
    memory = {
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "fit_peak_mb": peak - before,
        "ru_maxrss_mb": maxrss,
        "peak_source": "VmHWM after reset" if high_water is not None else "ru_maxrss",
    }
    return result, seconds, memory


def run_isolated(function, /, **kwargs):
    """Return ``function(**kwargs)`` computed in a fresh Python interpreter.

    ``function`` must be defined at module level. With the 'spawn' context the
    child shares no memory with this process, so what one model allocates
    cannot show in another's peak.
    """
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, **kwargs).result()


# --- reporting ---------------------------------------------------------------


def run_worker(script, job, what, env=None):
    """Run ``script --worker`` in a fresh interpreter with ``job`` as JSON on
    its stdin; return the JSON object on its last line of output.

    ``what`` names the job in the error raised if the worker fails.
    """
    done = subprocess.run(
        [sys.executable, script, "--worker"],
        input=json.dumps(job, default=str),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def parse_overrides(pairs, parser):
    """``--set name=value`` pairs as a dict; values are Python literals, or
    strings when they are not (``cell=gru``)."""
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


def fmt(value, digits=1):
    """A number with ``digits`` decimals and thousands separators; '' for None."""
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def print_header(title, args):
    print(f"== {title} ==")
    print(f"threads={args.threads} seed={args.seed} cpus={os.cpu_count()}")
    if args.quick:
        print(QUICK_NOTE)
    print(RATIO_NOTE)
    print()


def print_table(title, rows):
    """Print a list of dicts (the same keys each) as a table."""
    print(title)
    print(tabulate(rows, headers="keys", disable_numparse=True, stralign="right"))
    print()


def _git_commit():
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "sklearn_rnn"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+uncommitted sklearn_rnn changes" if dirty else "")


def environment(threads):
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }


def run_per_dataset(script, args, benchmark_dataset, report):
    """Benchmark each dataset in turn, then print and save the results."""
    set_threads(args.threads)
    print_header(script, args)
    results = [benchmark_dataset(args, dataset) for dataset in args.datasets]
    print()
    report(results)
    write_json(args.json, script, args, results)


def write_json(path, script, args, results, quiet=False):
    """Save the results, the arguments and the environment as JSON."""
    if path is None:
        return
    payload = {
        "script": script,
        "quick": args.quick,
        "note": QUICK_NOTE if args.quick else RATIO_NOTE,
        "args": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "environment": environment(args.threads),
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if not quiet:
        print(f"wrote {path}")
