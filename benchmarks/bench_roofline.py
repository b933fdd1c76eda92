"""Roofline benchmark: useful GFLOP/s of RNNTextClassifier's training vs matmul.

The ceiling is what this machine's float32 ``torch.mm`` reaches with
``--threads`` threads, best of ``--runs``, on three shapes: one LSTM time step
of a batch (64 x (E+H) times (E+H) x 4H), its recurrent part alone
(64 x H times H x 4H), and a large square product (1024 x 1024 x 1024).

The measured figure is the useful work of a ``RNNTextClassifier`` fit (the
shared sizes: bidirectional LSTM, E=100, H=128, batch 64) on a training
subset, per second: real (non-padding) tokens processed x FLOPs per token /
fit seconds. FLOPs per real token, for each direction of each layer:

    forward  = 2 * 4H * (input_size + H)   # [x_t, h_(t-1)] times the stacked
                                           # gate weights; a multiply and an
                                           # add per weight
    training = 3 * forward                 # backward: gradients of inputs and
                                           # of weights, each as much as forward

where input_size is E for the first layer and directions * H above it. Not
counted, as small next to this: gate nonlinearities and elementwise products
(about 10H per step), embedding lookups (no arithmetic), the linear head (per
text, not per token) and the optimizer step (per batch). Useful GFLOP/s is
given both per fit second (vectorizing included) and per second of skorch's
training loop (the sum of ``history_`` epoch durations).
"""

from functools import partial

import torch
from _common import (
    BATCH_SIZE,
    EMBEDDING_DIM,
    HIDDEN_SIZE,
    add_subset_options,
    best_times,
    choose_max_len,
    fmt,
    load_texts,
    make_parser,
    parse_args,
    print_header,
    print_table,
    real_tokens,
    rnn_text_classifier,
    set_threads,
    timed,
    token_lengths,
    warm_up_fit,
    write_json,
)

from sklearn_rnn import RNNTextClassifier

DEFAULT_MAX_TRAIN = 1000
QUICK_MAX_TRAIN = 200
MATMUL_SECONDS = 0.2  # length of one timed batch of products
QUICK_MATMUL_SECONDS = 0.02
STEP_SHAPE = "LSTM step"


def training_flops_per_token(embedding_dim, hidden_size, num_layers, bidirectional):
    """Training FLOPs per real token of an LSTM; see the module docstring."""
    directions = 2 if bidirectional else 1
    flops = 0
    input_size = embedding_dim
    for _ in range(num_layers):
        forward = 2 * 4 * hidden_size * (input_size + hidden_size)
        flops += directions * 3 * forward
        input_size = directions * hidden_size
    return flops


def matmul_shapes():
    """(name, (m, k, n)) of the products timed, from the shared sizes."""
    gates = 4 * HIDDEN_SIZE
    return {
        STEP_SHAPE: (BATCH_SIZE, EMBEDDING_DIM + HIDDEN_SIZE, gates),
        "recurrent part": (BATCH_SIZE, HIDDEN_SIZE, gates),
        "square 1024": (1024, 1024, 1024),
    }


def _repeat_mm(a, b, out, repeats):
    for _ in range(repeats):
        torch.mm(a, b, out=out)


def matmul_gflops(runs, target_seconds):
    """Best float32 GFLOP/s of ``torch.mm`` on each shape of ``matmul_shapes``."""
    generator = torch.Generator().manual_seed(0)
    functions, flops = {}, {}
    for name, (m, k, n) in matmul_shapes().items():
        a = torch.randn(m, k, generator=generator)
        b = torch.randn(k, n, generator=generator)
        out = torch.empty(m, n)
        once, _ = best_times({name: partial(_repeat_mm, a, b, out, 1)}, runs=3)
        repeats = max(1, round(target_seconds / once[name]))
        functions[name] = partial(_repeat_mm, a, b, out, repeats)
        flops[name] = 2 * m * k * n * repeats
    seconds, _ = best_times(functions, runs)
    return {
        name: {
            "shape_mkn": matmul_shapes()[name],
            "gflops": flops[name] / seconds[name] / 1e9,
        }
        for name in functions
    }


def training_gflops(args, dataset):
    """Useful GFLOP/s of one RNNTextClassifier fit on a training subset."""
    max_train = args.max_train or (QUICK_MAX_TRAIN if args.quick else DEFAULT_MAX_TRAIN)
    texts, labels = load_texts(args.data_dir, dataset, "train", max_train, args.seed)
    lengths = token_lengths(texts)
    max_len = choose_max_len(lengths, args.max_len, args.quick)
    warm_up_fit(rnn_text_classifier(max_len, 1, args.seed), texts, labels)
    print(f"  {dataset}: fitting {len(texts)} texts, max_len={max_len}")
    clf = rnn_text_classifier(max_len, args.epochs, args.seed, args.batch_size)
    _, fit_seconds = timed(partial(clf.fit, texts, labels))
    params = clf.get_params()
    per_token = training_flops_per_token(
        params["embedding_dim"],
        params["hidden_size"],
        params["num_layers"],
        params["bidirectional"],
    )
    tokens = clf.n_epochs_ * real_tokens(lengths, max_len)
    loop_seconds = sum(row["dur"] for row in clf.history_)
    return {
        "dataset": dataset,
        "n_train": len(texts),
        "max_len": max_len,
        "epochs": clf.n_epochs_,
        "real_tokens_processed": tokens,
        "training_flops_per_token": per_token,
        "fit_seconds": fit_seconds,
        "loop_seconds": loop_seconds,
        "gflops_per_fit_second": tokens * per_token / fit_seconds / 1e9,
        "gflops_per_loop_second": tokens * per_token / loop_seconds / 1e9,
    }


def report(matmuls, trainings):
    print_table(
        "float32 torch.mm (best of --runs)",
        [
            {
                "product": name,
                "m x k x n": " x ".join(map(str, figures["shape_mkn"])),
                "GFLOP/s": fmt(figures["gflops"], 1),
            }
            for name, figures in matmuls.items()
        ],
    )
    rows = []
    for result in trainings:
        useful = result["gflops_per_fit_second"]
        rows.append(
            {
                "dataset": result["dataset"],
                "n_train": result["n_train"],
                "max_len": result["max_len"],
                "MFLOP/token": fmt(result["training_flops_per_token"] / 1e6, 3),
                "fit s": fmt(result["fit_seconds"], 2),
                "loop s": fmt(result["loop_seconds"], 2),
                "useful GFLOP/s (fit)": fmt(useful, 2),
                "(loop)": fmt(result["gflops_per_loop_second"], 2),
                **{
                    f"% of {name}": fmt(100 * useful / figures["gflops"], 1) + "%"
                    for name, figures in matmuls.items()
                },
            }
        )
    print_table("RNNTextClassifier training, useful work per second", rows)


def main():
    parser = make_parser(__doc__, ["sst2", "imdb"])
    add_subset_options(
        parser,
        f"training texts per dataset; if unset, {DEFAULT_MAX_TRAIN}",
    )
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=RNNTextClassifier().batch_size,
        help="training batch size (default: the library's)",
    )
    parser.add_argument("--runs", type=int, default=5, help="matmul: best of this")
    args = parse_args(parser)
    if args.quick:
        args.epochs = 1
    set_threads(args.threads)
    print_header("bench_roofline", args)
    target = QUICK_MATMUL_SECONDS if args.quick else MATMUL_SECONDS
    matmuls = matmul_gflops(args.runs, target)
    trainings = [training_gflops(args, dataset) for dataset in args.datasets]
    print()
    report(matmuls, trainings)
    for result in trainings:
        result["percent_of_matmul"] = {
            name: 100 * result["gflops_per_fit_second"] / figures["gflops"]
            for name, figures in matmuls.items()
        }
    write_json(
        args.json, "bench_roofline", args, {"matmul": matmuls, "training": trainings}
    )


if __name__ == "__main__":
    main()
