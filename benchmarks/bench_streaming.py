"""Memory of training chunk by chunk, against fitting the whole data at once.

A gzip CSV file of ``--rows`` texts is written from a real data set (its
training texts repeated as needed, in a shuffled order). Then, each in a
fresh interpreter:

- ``streaming``: a ``TextVectorizer`` learns the vocabulary from a generator
  over the file read in chunks of ``--chunk-size`` rows, and
  ``RNNTextClassifier(vocabulary=...).partial_fit`` trains one epoch on each
  chunk as it is read. The resident memory (RSS) is read after every chunk.
- ``in_memory``: the whole file is read with pandas and
  ``RNNTextClassifier.fit`` trains one epoch on it (``early_stopping=False``),
  the same work per text.

Reported: for streaming, the RSS after the first chunk, after the last and
its growth per 100 chunks (flat memory: near 0), and the peak; for both, the
peak RSS above the interpreter's baseline after imports. Their ratio is the
figure to quote.
"""

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import (
    current_rss_mb,
    fmt,
    make_parser,
    parse_args,
    print_header,
    print_table,
    run_isolated,
    set_threads,
    timed_with_memory,
    write_json,
)

from sklearn_rnn import RNNTextClassifier, TextVectorizer

SCRIPT = "bench_streaming"
# Small enough to keep a run to minutes; the memory figures hardly depend on
# the network's size, which is fixed, but on how much data is held.
NETWORK = {"embedding_dim": 64, "hidden_size": 64, "batch_size": 64}


def write_corpus(data_dir, dataset, rows, seed, folder):
    """Write ``rows`` training texts of ``dataset``, shuffled, to a gzip CSV."""
    frame = pd.read_csv(
        data_dir / dataset / "train.csv.gz", keep_default_na=False, dtype=str
    )
    order = np.random.RandomState(seed).randint(len(frame), size=rows)
    path = Path(folder) / f"{dataset}_{rows}.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as file:
        frame.iloc[order].to_csv(file, index=False)
    return path, sorted(frame["label"].unique())


def read_chunks(path, chunk_size):
    return pd.read_csv(path, chunksize=chunk_size, keep_default_na=False, dtype=str)


def stream(path, chunk_size, classes, seed, threads):
    set_threads(threads)

    def train():
        texts = (text for chunk in read_chunks(path, chunk_size) for text in chunk.text)
        vectorizer = TextVectorizer().fit(texts)
        clf = RNNTextClassifier(
            **NETWORK, vocabulary=vectorizer, random_state=seed, device="cpu"
        )
        rss = []
        for chunk in read_chunks(path, chunk_size):
            clf.partial_fit(chunk.text, chunk.label, classes=classes)
            rss.append(current_rss_mb())
        return rss

    rss, seconds, memory = timed_with_memory(train)
    return {"rss_per_chunk_mb": rss, "seconds": seconds, **memory}


def in_memory(path, classes, seed, threads):
    set_threads(threads)

    def train():
        frame = pd.read_csv(path, keep_default_na=False, dtype=str)
        RNNTextClassifier(
            **NETWORK,
            max_epochs=1,
            early_stopping=False,
            random_state=seed,
            device="cpu",
        ).fit(frame.text, frame.label)

    _, seconds, memory = timed_with_memory(train)
    return {"seconds": seconds, **memory}


def growth_per_100_chunks(rss):
    """Least-squares slope of RSS over the chunks after the first tenth."""
    start = max(1, len(rss) // 10)
    if len(rss) - start < 2:
        return None
    chunks = np.arange(start, len(rss))
    return 100 * np.polyfit(chunks, np.asarray(rss[start:]), 1)[0]


def main():
    parser = make_parser(__doc__, ["sst2"])
    parser.add_argument("--rows", type=int, default=200_000, help="texts in the file")
    parser.add_argument("--chunk-size", type=int, default=2_000, help="rows per chunk")
    args = parse_args(parser)
    if args.quick:
        args.rows, args.chunk_size = min(args.rows, 3_000), min(args.chunk_size, 500)
    print_header(SCRIPT, args)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for dataset in args.datasets:
            path, classes = write_corpus(
                args.data_dir, dataset, args.rows, args.seed, folder
            )
            common = {"path": path, "classes": classes, "seed": args.seed}
            streamed = run_isolated(
                stream, chunk_size=args.chunk_size, threads=args.threads, **common
            )
            whole = run_isolated(in_memory, threads=args.threads, **common)
            results.append(
                {"dataset": dataset, "streaming": streamed, "in_memory": whole}
            )
    report(results, args)
    write_json(args.json, SCRIPT, args, results)


def report(results, args):
    rows = []
    for result in results:
        streamed, whole = result["streaming"], result["in_memory"]
        rss = streamed["rss_per_chunk_mb"]
        rows.append(
            {
                "dataset": result["dataset"],
                "texts": f"{args.rows:,}",
                "chunks": len(rss),
                "RSS after chunk 1 (MB)": fmt(rss[0]),
                "after last": fmt(rss[-1]),
                "growth per 100 chunks": fmt(growth_per_100_chunks(rss)),
                "streaming peak above start": fmt(streamed["fit_peak_mb"]),
                "in-memory peak above start": fmt(whole["fit_peak_mb"]),
                "in-memory / streaming": fmt(
                    whole["fit_peak_mb"] / streamed["fit_peak_mb"], 2
                ),
                "time ratio (streaming / in-memory)": fmt(
                    streamed["seconds"] / whole["seconds"], 2
                ),
            }
        )
    print_table("Memory (MB) of one epoch over the data", rows)
    for result in results:
        rss = result["streaming"]["rss_per_chunk_mb"]
        marks = sorted(
            {0, len(rss) // 4, len(rss) // 2, 3 * len(rss) // 4, len(rss) - 1}
        )
        print(
            f"{result['dataset']}: RSS after chunk "
            + ", ".join(f"{i + 1}: {rss[i]:.0f} MB" for i in marks)
        )


if __name__ == "__main__":
    main()
