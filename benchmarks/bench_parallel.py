"""Wall-clock time of one grid search with one job and with several, same cores.

The same ``GridSearchCV`` over ``RNNTextClassifier`` (``--candidates``
learning rates x ``--folds`` folds, ``--epochs`` epochs each, on
``--max-train`` training texts) runs three ways, side by side in one process
(best of ``--runs`` rounds, order alternated), with N = ``--threads`` cores
(default: all of them):

- ``1 job x N threads``: ``n_jobs=1``, torch on N threads (its default on N
  cores);
- ``1 job x 1 thread``: ``n_jobs=1``, torch on one thread (and ``1 job x
  N/J threads`` when N/J is neither 1 nor N);
- ``J jobs x N/J threads``: ``n_jobs=J`` (``--jobs``, default 2) through
  joblib's loky workers, each given its share of the cores, N // J threads
  (``parallel_config(inner_max_num_threads=...)``: what joblib gives each
  worker by default when ``OMP_NUM_THREADS`` is unset).

Every fit is the library's default network, early stopping off so that each
does the same work; the candidates differ in learning rate only, so they take
the same time. ``refit=False``: the search alone, the part that ``n_jobs``
spreads; refitting the best candidate is one more fit in the main process.

Reported: the seconds of each, the speed-up of J jobs over each 1-job run, and
whether the J-job search gave exactly the scores of the 1-job search with the
same threads per fit (on 2 cores, 2 jobs x 1 thread against 1 job x 1 thread).
The workers' start (importing torch, their first fit) is paid once per pool:
an untimed search on a small subset and the best of ``--runs`` leave it out.
"""

from functools import partial

import numpy as np
from _common import (
    QUICK_MAX_LEN,
    WARM_UP_TEXTS,
    best_times,
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_table,
    run_per_dataset,
    set_threads,
    warm_up_fit,
)
from joblib import cpu_count, parallel_config
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_rnn import RNNTextClassifier

LEARNING_RATES = [1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2]
SCORING = ["accuracy", "neg_log_loss"]


def grid_search(args, n_jobs):
    quick = {"max_len": QUICK_MAX_LEN} if args.quick else {}
    return GridSearchCV(
        RNNTextClassifier(
            max_epochs=args.epochs,
            early_stopping=False,
            random_state=args.seed,
            device="cpu",
            **quick,
        ),
        {"lr": LEARNING_RATES[: args.candidates]},
        cv=StratifiedKFold(args.folds, shuffle=True, random_state=args.seed),
        scoring=SCORING,
        refit=False,
        n_jobs=n_jobs,
    )


def search(args, texts, labels, jobs, threads):
    """Fit the grid search on ``jobs`` processes of ``threads`` threads each."""
    if jobs == 1:
        set_threads(threads)
        return grid_search(args, 1).fit(texts, labels)
    # A long idle timeout keeps the same workers from one round to the next.
    with parallel_config(
        backend="loky", inner_max_num_threads=threads, idle_worker_timeout=3600
    ):
        return grid_search(args, jobs).fit(texts, labels)


def name(jobs, threads):
    return f"{jobs} job{'s' * (jobs > 1)} x {threads} thread{'s' * (threads > 1)}"


def same_scores(a, b):
    return all(
        np.array_equal(a.cv_results_[key], b.cv_results_[key])
        for key in a.cv_results_
        if "_test_" in key
    )


def benchmark_dataset(args, dataset):
    texts, labels = load_texts(
        args.data_dir, dataset, "train", args.max_train, args.seed
    )
    cores, jobs = args.threads, args.jobs
    share = max(1, cores // jobs)
    # The 1-job searches on all cores, on one, and on a worker's share of them.
    setups = {name(1, threads): (1, threads) for threads in (cores, 1, share)}
    parallel = name(jobs, share)
    setups[parallel] = (jobs, share)
    print(
        f"  {dataset}: {len(texts)} texts, {args.candidates} candidates x "
        f"{args.folds} folds, epochs: {args.epochs}",
        flush=True,
    )

    warm_up_fit(RNNTextClassifier(max_epochs=1, device="cpu"), texts, labels)
    subset = 4 * WARM_UP_TEXTS
    search(args, texts[:subset], labels[:subset], *setups[parallel])
    seconds, searches = best_times(
        {
            setup: partial(search, args, texts, labels, *setups[setup])
            for setup in setups
        },
        runs=args.runs,
    )
    set_threads(cores)
    for setup in setups:
        print(f"  {setup}: {seconds[setup]:.1f} s", flush=True)

    reference = name(1, share)
    return {
        "dataset": dataset,
        "texts": len(texts),
        "fits": args.candidates * args.folds,
        "epochs": args.epochs,
        **{f"{setup} s": seconds[setup] for setup in setups},
        **{
            f"speed-up over {setup}": seconds[setup] / seconds[parallel]
            for setup in setups
            if setup != parallel
        },
        f"identical to {reference}": same_scores(
            searches[parallel], searches[reference]
        ),
    }


def report(results):
    rows = [
        {
            key: fmt(value, 2) if isinstance(value, float) else value
            for key, value in row.items()
        }  # fmt: skip
        for row in results
    ]
    print_table("Grid search seconds (best of runs) and speed-up of the jobs", rows)


def main():
    parser = make_parser(__doc__, ["mr"])
    parser.set_defaults(threads=cpu_count())
    parser.add_argument("--max-train", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2, help="n_jobs of the search")
    parser.add_argument("--candidates", type=int, default=4, choices=range(1, 7))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    args = parse_args(parser)
    if args.jobs < 2:
        parser.error("--jobs must be at least 2")
    if args.quick:
        args.max_train = min(args.max_train, 300)
        args.epochs = 1
        args.runs = 1
    run_per_dataset("bench_parallel", args, benchmark_dataset, report)


if __name__ == "__main__":
    main()
