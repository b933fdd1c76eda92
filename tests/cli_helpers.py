"""What the command-line tests share: data files written as other tools
write them, running the command, and reading what it wrote."""

import csv
import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import keyword_data

from sklearn_rnn.cli import main

TINY = [
    "--max-epochs", "2", "--embedding-dim", "8", "--hidden-size", "8",
    "--batch-size", "16", "--lr", "0.02", "--device", "cpu", "--random-state", "0",
]  # fmt: skip
# Probabilities are written with 4 decimals: each is within half the last one
# of the model's own, give or take the float's rounding.
WRITTEN_PRECISION = 0.5e-4 + 1e-12


def texts_and_labels(n_samples=60, seed=0):
    """Generated texts, a few holding what CSV and TSV must quote."""
    texts, labels = keyword_data(n_samples, seed=seed)
    texts[0] += ', "quoted", and a comma'
    texts[1] += "\tafter a tab"
    texts[2] += "\non a second line"
    texts[3] = "héllo wörld ✓ " + texts[3]
    return texts, labels.tolist()


def write_data(path, texts, labels=None, text_column="text", label_column="label"):
    """Write a data file as other tools would, here pandas."""
    frame = pd.DataFrame({text_column: texts})
    if labels is not None:
        frame[label_column] = labels
    name = str(path).removesuffix(".gz")
    compression = "gzip" if str(path).endswith(".gz") else None
    if name.endswith((".jsonl", ".ndjson")):
        frame.to_json(
            path,
            orient="records",
            lines=True,
            force_ascii=False,
            compression=compression,
        )
    else:
        # utf-8-sig: a byte-order mark first, as Excel writes.
        frame.to_csv(
            path,
            sep="\t" if name.endswith(".tsv") else ",",
            index=False,
            encoding="utf-8-sig",
            compression=compression,
        )
    return str(path)


def write_lines(path, lines):
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def run(capsys, *args):
    """Run the command in this process: its exit code, stdout and stderr."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code, err, *fragments):
    """Exit code 2 and, after any progress messages, the error in one line."""
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "sklearn-rnn: error" in line]
    assert len(errors) == 1, err
    assert errors[0].startswith("sklearn-rnn: error: ")
    assert err.endswith(errors[0] + "\n")
    for fragment in fragments:
        assert fragment in errors[0]


def read_predictions(path_or_text):
    if isinstance(path_or_text, Path):
        opener = gzip.open if path_or_text.suffix == ".gz" else open
        with opener(path_or_text, "rt", encoding="utf-8", newline="") as file:
            rows = list(csv.reader(file))
    else:
        rows = list(csv.reader(io.StringIO(path_or_text)))
    header, body = rows[0], rows[1:]
    labels = [row[0] for row in body]
    proba = np.array([[float(value) for value in row[1:]] for row in body])
    return header, labels, proba


WORKTREE = str(Path(__file__).resolve().parents[1])


def cli_command(args):
    return [sys.executable, "-m", "sklearn_rnn", *(str(arg) for arg in args)]


def cli_env(**variables):
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        # the sklearn_rnn under test, not an installed one
        "PYTHONPATH": WORKTREE + (os.pathsep + path if path else ""),
        **variables,
    }


def run_cli(*args, stdout=subprocess.PIPE):
    """Run the command in a new process: its CompletedProcess, in text."""
    return subprocess.run(
        cli_command(args),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        timeout=300,
    )


def train_by_command(folder, *options, in_process=True):
    """Train the command on generated texts written to ``folder``, with the
    TINY settings and ``options`` after them: the model file, the data file,
    the texts and the labels."""
    texts, labels = texts_and_labels()
    data = write_data(folder / "train.csv", texts, labels)
    model = folder / "model.safetensors"
    arguments = ["train", data, *TINY, *options, "--quiet", "-o", model]
    if in_process:
        code = main([str(argument) for argument in arguments])
    else:
        code = run_cli(*arguments).returncode
    assert code == 0
    return model, data, texts, labels
