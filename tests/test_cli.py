"""The sklearn-rnn command: train, predict and evaluate on files, and its errors."""

import csv
import gzip
import io
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import keyword_data

from sklearn_rnn import RNNTextClassifier, cli, load_model
from sklearn_rnn._data_files import as_model_labels
from sklearn_rnn.cli import main, parse_value

TINY = [
    "--max-epochs", "2", "--embedding-dim", "8", "--hidden-size", "8",
    "--batch-size", "16", "--lr", "0.02", "--device", "cpu", "--random-state", "0",
]  # fmt: skip


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


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by the command, with its training data file."""
    folder = tmp_path_factory.mktemp("trained")
    texts, labels = texts_and_labels()
    data = write_data(folder / "train.csv", texts, labels)
    model = folder / "model.safetensors"
    assert main(["train", data, *TINY, "--quiet", "-o", str(model)]) == 0
    return model, data, texts, labels


# --- round trips ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["data.csv", "data.tsv", "data.jsonl", "data.ndjson.gz", "data.csv.gz"]
)
def test_train_predict_evaluate_round_trip(name, tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / name, texts, labels)
    model = tmp_path / "model.safetensors"
    output = tmp_path / ("predictions.csv.gz" if name.endswith(".gz") else "out.csv")

    code, out, err = run(capsys, "train", data, *TINY, "-q", "-o", model)
    assert (code, out, err) == (0, "", "")
    assert model.is_file()

    code, out, err = run(capsys, "predict", model, data, "-o", output, "-q")
    assert (code, out, err) == (0, "", "")
    header, predicted, proba = read_predictions(output)
    fitted = load_model(model)
    assert header == ["label", "proba_neg", "proba_pos"]
    assert len(predicted) == len(texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(proba, fitted.predict_proba(texts), rtol=0, atol=1e-12)
    assert predicted == fitted.predict(texts).tolist()

    code, out, err = run(capsys, "evaluate", model, data)
    assert code == 0, err
    accuracy = np.mean(np.array(predicted) == np.array(labels))
    assert f"Accuracy: {accuracy:.4f} on 60 texts" in out
    assert "precision    recall  f1-score   support" in out
    assert "Confusion matrix" in out


def test_train_shows_epochs_and_a_summary(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels)
    model = tmp_path / "model.safetensors"
    code, out, err = run(capsys, "train", data, *TINY, "-o", model)
    assert code == 0
    assert "train_loss" in out
    assert "Trained on 60 texts, 2 classes (neg, pos), 2 epochs" in out
    assert f"Model saved to {model}" in out
    assert "Training on 60 texts" in err


def test_train_passes_options_to_the_estimator(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "data.csv", texts, labels, "review", "stars")
    model = tmp_path / "model.safetensors"
    code, _, err = run(
        capsys, "train", data, "--text-column", "review", "--label-column", "stars",
        *TINY, "--cell", "gru", "--bidirectional", "false", "--max-len", "None",
        "--class-weight", "{'neg': 1.0, 'pos': 2.0}", "--token-pattern", r"\w+",
        "-q", "-o", model,
    )  # fmt: skip
    assert code == 0, err
    params = load_model(model).get_params()
    assert params["cell"] == "gru"
    assert params["bidirectional"] is False
    assert params["max_len"] is None
    assert params["class_weight"] == {"neg": 1.0, "pos": 2.0}
    assert params["token_pattern"] == r"\w+"
    assert params["max_epochs"] == 2


def test_predict_writes_clean_csv_to_stdout(trained, capsys):
    model, data, texts, _ = trained
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0
    header, labels, proba = read_predictions(out)
    assert header == ["label", "proba_neg", "proba_pos"]
    np.testing.assert_allclose(proba, load_model(model).predict_proba(texts))
    assert "Predicting 60 texts" in err


def test_predict_reports_progress_in_chunks(trained, tmp_path, capsys, monkeypatch):
    model, data, texts, _ = trained
    monkeypatch.setattr(cli, "PREDICTION_CHUNK", 25)
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0
    progress = [line.strip() for line in err.splitlines() if " / " in line]
    assert progress == ["25 / 60", "50 / 60", "60 / 60"]
    # other batches, other float32 rounding
    np.testing.assert_allclose(
        read_predictions(out)[2], load_model(model).predict_proba(texts), rtol=1e-5
    )


def test_format_option_overrides_the_extension(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = write_data(tmp_path / "data.tsv", texts)
    renamed = tmp_path / "data.txt"
    os.replace(data, renamed)
    code, out, err = run(capsys, "predict", model, renamed, "--format", "tsv", "-q")
    assert code == 0, err
    assert len(read_predictions(out)[1]) == len(texts)


def test_reads_texts_longer_than_the_csv_field_limit(trained, tmp_path, capsys):
    model, _, _, _ = trained
    texts = ["w1 " * 100_000, "key0 w2"]
    data = write_data(tmp_path / "long.csv", texts)
    limit = csv.field_size_limit()
    code, out, err = run(capsys, "predict", model, data)
    assert code == 0, err
    assert len(read_predictions(out)[1]) == 2
    assert csv.field_size_limit() == limit


def test_int_labels_from_json_lines(tmp_path, capsys):
    texts, labels = texts_and_labels()
    numbers = [int(label == "pos") for label in labels]
    data = write_data(tmp_path / "data.jsonl", texts, numbers)
    assert '"label":1' in Path(data).read_text(encoding="utf-8")
    model = tmp_path / "model.safetensors"
    assert run(capsys, "train", data, *TINY, "-q", "-o", model)[0] == 0
    fitted = load_model(model)
    assert fitted.classes_.tolist() == [0, 1]

    code, out, _ = run(capsys, "predict", model, data)
    header, predicted, _ = read_predictions(out)
    assert header == ["label", "proba_0", "proba_1"]
    assert predicted == [str(label) for label in fitted.predict(texts)]

    # The same labels as CSV strings are compared as the model's ints.
    as_csv = write_data(tmp_path / "data.csv", texts, numbers)
    json_report = run(capsys, "evaluate", model, data)[1]
    code, csv_report, err = run(capsys, "evaluate", model, as_csv)
    assert code == 0, err
    assert csv_report == json_report

    unseen = write_data(tmp_path / "unseen.csv", texts[:3], [0, 1, 2])
    code, _, err = run(capsys, "evaluate", model, unseen)
    assert_usage_error(code, err, "not trained on: '2'", "classes are 0, 1")


@pytest.mark.parametrize(
    "labels, classes, expected",
    [
        (["1", "0", "1.0", 1, 1.0], [0, 1], [1, 0, 1, 1, 1]),
        (["True", "false", True], [False, True], [True, False, True]),
        (["0.5", 2, "2"], [0.5, 2.0], [0.5, 2.0, 2.0]),
        (["spam", 1, "1"], ["1", "spam"], ["spam", "1", "1"]),
    ],
)
def test_labels_are_read_as_the_model_classes(labels, classes, expected):
    converted = as_model_labels(labels, np.array(classes), "data.csv", "label")
    assert converted.tolist() == expected
    assert converted.dtype == np.array(classes).dtype


@pytest.mark.parametrize(
    "text, value",
    [
        ("5", 5),
        ("1e-3", 0.001),
        ("None", None),
        ("none", None),
        ("false", False),
        ("True", True),
        ("{'spam': 2}", {"spam": 2}),
        ("lstm", "lstm"),
        (r"\w+", r"\w+"),
        ("'[0-9]+'", "[0-9]+"),
        ("glove.6B.50d.txt.gz", "glove.6B.50d.txt.gz"),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value


# --- errors --------------------------------------------------------------------


def test_missing_data_file(trained, tmp_path, capsys):
    model, _, _, _ = trained
    missing = tmp_path / "nope.csv"
    for args in (
        ["train", missing, "-o", tmp_path / "m.safetensors"],
        ["predict", model, missing],
        ["evaluate", model, missing],
    ):
        code, _, err = run(capsys, *args)
        assert_usage_error(code, err, f"{missing}: no such file")


def test_missing_or_invalid_model_file(trained, tmp_path, capsys):
    _, data, _, _ = trained
    code, _, err = run(capsys, "predict", tmp_path / "nope.safetensors", data)
    assert_usage_error(code, err, "No model file")
    code, _, err = run(capsys, "evaluate", data, data)
    assert_usage_error(code, err, "is not a readable sklearn-rnn model file")


def test_missing_column_names_those_present(trained, tmp_path, capsys):
    model, data, _, _ = trained
    code, _, err = run(
        capsys, "train", data, "--text-column", "review", "-o", tmp_path / "m"
    )
    assert_usage_error(
        code, err, "has no column 'review'", "its columns are 'text', 'label'",
        "--text-column",
    )  # fmt: skip
    code, _, err = run(capsys, "evaluate", model, data, "--label-column", "stars")
    assert_usage_error(code, err, "has no column 'stars'", "--label-column")

    jsonl = write_lines(tmp_path / "d.jsonl", ['{"body": "a", "y": 1}', '{"x": 2}'])
    code, _, err = run(capsys, "predict", model, jsonl)
    assert_usage_error(code, err, "no column 'text'", "are 'body', 'y', 'x'")


@pytest.mark.parametrize(
    "name, lines, message",
    [
        ("d.csv", ["text,label", "fine,neg", "pos"], "d.csv, line 3: no value in"),
        ("d.tsv", ["label\ttext", "neg\tfine", "pos"], "d.tsv, line 3: no value in"),
        (
            "d.jsonl",
            ['{"text": "fine", "label": "neg"}', "", '{"text": null, "label": "pos"}'],
            "d.jsonl, line 3: no value in column 'text'",
        ),
        (
            "d.jsonl",
            ['{"text": "fine", "label": "neg"}', '{"label": "pos"}'],
            "d.jsonl, line 2: no value in column 'text'",
        ),
        ("d.jsonl", ['{"text": 5, "label": "neg"}'], "column 'text': a number, not"),
        ("d.csv", ["text,label", "fine,"], "line 2, column 'label': an empty label"),
        ("d.csv", ["text,label", "a,b,c"], "line 2: 3 fields where the header has 2"),
        ("d.jsonl", ['{"text": "a"'], "d.jsonl, line 1: invalid JSON"),
        ("d.jsonl", ['["a", "b"]'], "expected a JSON object, found a list"),
        ("d.csv", ["text,label"], "d.csv has no rows of data"),
        ("d.csv", [], "d.csv is empty"),
    ],
)
def test_bad_rows_are_reported_with_their_line(name, lines, message, tmp_path, capsys):
    data = write_lines(tmp_path / name, lines)
    code, out, err = run(capsys, "train", data, *TINY, "-o", tmp_path / "m")
    assert_usage_error(code, err, message)
    assert not (tmp_path / "m").exists()


def test_unreadable_files(trained, tmp_path, capsys):
    model, _, _, _ = trained
    not_gzip = write_lines(tmp_path / "d.csv.gz", ["text", "plain"])
    code, _, err = run(capsys, "predict", model, not_gzip)
    assert_usage_error(code, err, "cannot read", "Not a gzipped file")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("text\ncafé\n".encode("latin-1"))
    code, _, err = run(capsys, "predict", model, latin1)
    assert_usage_error(code, err, "is not UTF-8 text")


def test_unknown_extension(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = write_lines(tmp_path / "data.txt", ["text", "hello"])
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, "cannot tell the format of", "--format")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--cell", "lsmt", "argument --cell: The 'cell' parameter"),
        ("--max-epochs", "0", "argument --max-epochs: The 'max_epochs' parameter"),
        ("--dropout", "high", "Got 'high' instead"),
    ],
)
def test_bad_parameter_values(trained, tmp_path, capsys, option, value, message):
    _, data, _, _ = trained
    code, _, err = run(capsys, "train", data, option, value, "-o", tmp_path / "m")
    assert_usage_error(code, err, message)


def test_failed_training_is_reported(tmp_path, capsys):
    data = write_data(tmp_path / "d.csv", ["a b", "c d", "e f"], ["x", "x", "x"])
    code, _, err = run(capsys, "train", data, *TINY, "-o", tmp_path / "m")
    assert_usage_error(code, err, "cannot train: ", "at least 2 classes")


def test_missing_word_vector_file_is_reported(trained, tmp_path, capsys):
    _, data, _, _ = trained
    missing = tmp_path / "vectors.txt"
    code, _, err = run(
        capsys, "train", data, *TINY, "--embeddings", missing, "-o", tmp_path / "m"
    )
    assert_usage_error(code, err, "cannot train: ", "vectors.txt")


def test_output_folder_must_exist_before_training(trained, tmp_path, capsys):
    model, data, _, _ = trained
    missing = tmp_path / "missing" / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-o", missing)
    assert_usage_error(code, err, "cannot write", "no directory")
    code, _, err = run(capsys, "predict", model, data, "-o", missing)
    assert_usage_error(code, err, "cannot write", "no directory")


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "required" in err
    code, _, err = run(capsys, "train", "data.csv")
    assert code == 2
    assert "-o/--output" in err
    # No abbreviations: they would change meaning as the estimator grows.
    code, _, err = run(capsys, "train", "data.csv", "-o", "m", "--max-epoch", "2")
    assert code == 2
    assert "unrecognized arguments: --max-epoch" in err


# --- help and entry points ----------------------------------------------------


def test_help_of_each_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert all(command in out for command in ("train", "predict", "evaluate"))

    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    for name in RNNTextClassifier().get_params():
        if name not in cli.NOT_OPTIONS:
            assert f"--{name.replace('_', '-')} VALUE" in out
    assert "--max-epochs VALUE" in out
    assert "(default: 20)" in out
    assert "Passes over the training data" in out
    assert "--output MODEL" in out
    assert "examples:" in out

    for command, options in {
        "predict": ["--text-column", "--output", "--format", "proba_<class>"],
        "evaluate": ["--text-column", "--label-column", "confusion matrix"],
    }.items():
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert all(option in out for option in options)
        assert "examples:" in out


def test_python_m_sklearn_rnn(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sklearn-rnn", "--version"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("sklearn_rnn", run_name="__main__")
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("sklearn-rnn ")


def test_installed_console_script():
    script = Path(sys.executable).with_name("sklearn-rnn")
    script = str(script) if script.exists() else shutil.which("sklearn-rnn")
    if script is None:
        pytest.skip("the sklearn-rnn script is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [script, "train", "--help"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "usage: sklearn-rnn train" in result.stdout
    assert "--max-epochs" in result.stdout
