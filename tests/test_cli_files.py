"""The command line on files as users have them: other encodings, no header
row, integer labels; and outputs to act on: ids, texts, rounded
probabilities and the misclassified texts."""

import codecs
import csv
import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import (
    TINY,
    WRITTEN_PRECISION,
    assert_usage_error,
    read_predictions,
    run,
    run_cli,
    texts_and_labels,
    train_by_command,
    write_data,
    write_lines,
)

from sklearn_rnn import load_model
from sklearn_rnn._data_files import read_labels


def write_encoded(path, rows, encoding, header=("text", "label")):
    """A CSV file in ``encoding``, as a tool of another platform saves it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    content = buffer.getvalue().encode(encoding)
    path.write_bytes(gzip.compress(content) if path.name.endswith(".gz") else content)
    return path


# --- encodings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("d.csv", "cp1252"), ("d.csv.gz", "latin-1"), ("d.csv", "utf-16")],
)
def test_encoding_reads_the_texts_as_written(name, encoding, trained, tmp_path, capsys):
    model, _, _, _ = trained
    texts = [
        "café crème",
        "naïve façade",
        "€ 5 – “quoted”" if encoding != "latin-1" else "¿qué?",
    ]
    data = write_encoded(tmp_path / name, [[text, "pos"] for text in texts], encoding)
    code, _, err = run(capsys, "predict", model, data, "-q")
    assert_usage_error(code, err, "--encoding")
    code, out, err = run(capsys, "predict", model, data, "--encoding", encoding, "-q")
    assert code == 0, err
    _, _, proba = read_predictions(out)
    expected = load_model(model).predict_proba(texts)
    np.testing.assert_allclose(proba, expected, rtol=0, atol=WRITTEN_PRECISION)


def test_a_utf16_file_is_recognised_in_the_error(trained, tmp_path, capsys):
    model, _, _, _ = trained
    data = write_encoded(tmp_path / "d.csv", [["hello", "pos"]], "utf-16")
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, "starts as UTF-16 does: give --encoding utf-16")


def test_the_byte_offset_counts_across_read_chunks(trained, tmp_path, capsys):
    """The first undecodable byte's offset and line, past the 1 MiB chunks
    the check reads, with an é straddling the first chunk boundary."""
    model, _, _, _ = trained
    head = b"text\n" + b"a" * (2**20 - 6)
    body = "é".encode() + b" fine\n" + b"b" * 1000 + b"\n" + b"caf\xe9\n"
    content = head + body
    # the é's two bytes: the last of the first chunk and the first of the next
    assert content[2**20 - 1 : 2**20 + 1] == "é".encode()
    data = tmp_path / "d.csv"
    data.write_bytes(content)
    offset = content.index(b"\xe9\n")
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, f"line 4, byte offset {offset:,}: b'\\xe9'")


def test_an_encoding_that_does_not_fit_is_reported_with_its_offset(
    trained, tmp_path, capsys
):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", ["text", "plain", "naïve"])
    code, _, err = run(capsys, "predict", model, data, "--encoding", "ascii")
    assert_usage_error(
        code,
        err,
        "line 3, byte offset 13: b'\\xc3' is not ascii text; check --encoding",
    )


def test_an_unknown_encoding_is_a_usage_error(trained, capsys):
    model, data, _, _ = trained
    code, out, err = run(capsys, "predict", model, data, "--encoding", "klingon")
    assert_usage_error(code, err, "unknown encoding 'klingon' for --encoding")
    assert out == ""


# --- files without a header row ---------------------------------------------------


def test_no_header_trains_the_model_a_header_would(tmp_path, capsys):
    texts, labels = texts_and_labels()
    with_header = write_data(tmp_path / "with.csv", texts, labels)
    without = tmp_path / "without.tsv"
    pd.DataFrame({"label": labels, "text": texts}).to_csv(
        without, sep="\t", header=False, index=False
    )
    models = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert run(capsys, "train", with_header, *TINY, "-q", "-o", models[0])[0] == 0
    code, _, err = run(
        capsys,
        "train", without, "--no-header", "--text-column", "2",
        "--label-column", "1", *TINY, "-q", "-o", models[1],
    )  # fmt: skip
    assert code == 0, err
    first, second = (load_model(path) for path in models)
    np.testing.assert_array_equal(first.classes_, second.classes_)
    np.testing.assert_allclose(
        first.predict_proba(texts), second.predict_proba(texts), rtol=0, atol=0
    )


def test_no_header_defaults_to_text_then_label(trained, tmp_path, capsys):
    model, _, texts, labels = trained
    data = tmp_path / "d.csv"
    pd.DataFrame({"t": texts, "l": labels}).to_csv(data, header=False, index=False)
    code, out, err = run(capsys, "evaluate", model, data, "--no-header")
    assert code == 0, err
    # every row is data: the first text is counted too
    assert f"on {len(texts)} texts" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--text-column", "text"], "columns are given by position (1 for the first)"),
        (["--text-column", "0"], "not '0'"),
        (["--text-column", "3"], "has no column 3: its rows have 2 fields"),
    ],
)
def test_no_header_positions_are_checked(options, message, trained, tmp_path, capsys):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", ["good film,pos", "bad film,neg"])
    code, out, err = run(capsys, "predict", model, data, "--no-header", *options)
    assert_usage_error(code, err, message)
    assert out == ""


def test_no_header_is_refused_for_json_lines(trained, tmp_path, capsys):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.jsonl", ['{"text": "a"}'])
    code, _, err = run(capsys, "predict", model, data, "--no-header")
    assert_usage_error(code, err, "--no-header applies to CSV and TSV files only")


def test_a_file_without_a_header_read_with_one_points_to_no_header(
    trained, tmp_path, capsys
):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", ["good film,pos", "bad film,neg"])
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(
        code, err, "no column 'text'; its columns are 'good film', 'pos'", "--no-header"
    )


# --- integer labels --------------------------------------------------------------


def test_integer_labels_train_a_model_that_scores_the_file_read_by_pandas(
    tmp_path, capsys
):
    texts, labels = texts_and_labels()
    numbers = [{"neg": -1, "pos": 10}[label] for label in labels]
    data = write_data(tmp_path / "d.csv", texts, numbers)
    model = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-q", "-o", model)
    assert code == 0, err
    fitted = load_model(model)
    assert fitted.classes_.tolist() == [-1, 10]
    assert fitted.classes_.dtype.kind == "i"
    frame = pd.read_csv(data)
    # pandas reads the labels as int64: no "Mix of label input types"
    assert frame["label"].dtype.kind == "i"
    assert fitted.score(frame["text"], frame["label"]) == fitted.score(texts, numbers)

    code, _, err = run(
        capsys, "train", data, *TINY, "-q", "--label-type", "str", "-o", model
    )
    assert code == 0, err
    assert load_model(model).classes_.tolist() == ["-1", "10"]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["0", "1", "-2"], [0, 1, -2]),
        # written in a way an int would not keep: text
        (["007", "1"], ["007", "1"]),
        (["+1", "-1"], ["+1", "-1"]),
        (["1.0", "2"], ["1.0", "2"]),
        (["1", "spam"], ["1", "spam"]),
        # JSON Lines gives its own types, kept
        ([1, 2], [1, 2]),
    ],
)
def test_labels_become_integers_only_when_all_are_written_as_such(labels, expected):
    read = read_labels(labels)
    assert read == expected
    assert [type(label) for label in read] == [type(label) for label in expected]


def test_label_type_str_turns_json_values_into_text():
    assert read_labels([1, True, "a"], "str") == ["1", "true", "a"]


# --- predictions to act on --------------------------------------------------------


def test_predict_carries_ids_and_texts_into_a_real_process(trained, tmp_path):
    model, _, texts, _ = trained
    ids = [f"doc-{index}" for index in range(len(texts))]
    data = tmp_path / "d.csv"
    pd.DataFrame({"doc": ids, "body": texts}).to_csv(data, index=False)
    result = run_cli(
        "predict", model, data, "--id-column", "doc", "--text-column", "body",
        "--keep-text", "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert list(written.columns) == ["doc", "body", "label", "proba_neg", "proba_pos"]
    assert written["doc"].tolist() == ids
    assert written["body"].tolist() == texts
    fitted = load_model(model)
    assert written["label"].tolist() == fitted.predict(texts).tolist()


def test_predict_ids_from_json_lines_keep_their_values(trained, tmp_path, capsys):
    model, _, texts, _ = trained
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": 100 + index, "text": text}) + "\n"
            for index, text in enumerate(texts[:3])
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "predict", model, data, "--id-column", "id", "-q")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["id", "label"]
    assert [row[0] for row in rows[1:]] == ["100", "101", "102"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["text,doc", "a,1", "b,"], "line 3, column 'doc': an empty id"),
        (["text", "a"], "has no column 'doc'; its columns are 'text'"),
    ],
)
def test_predict_checks_the_id_column(lines, message, trained, tmp_path, capsys):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", lines)
    code, out, err = run(capsys, "predict", model, data, "--id-column", "doc")
    assert_usage_error(code, err, message)
    assert out == ""


@pytest.mark.parametrize("decimals", [None, "2", "0"])
def test_probabilities_are_written_with_fixed_decimals(decimals, trained, capsys):
    model, data, texts, _ = trained
    options = [] if decimals is None else ["--decimals", decimals]
    code, out, err = run(capsys, "predict", model, data, "-q", *options)
    assert code == 0, err
    places = 4 if decimals is None else int(decimals)
    rows = list(csv.reader(io.StringIO(out)))[1:]
    pattern = r"\d\." + r"\d" * places if places else r"\d"
    for row in rows:
        for value in row[1:]:
            assert pd.Series([value]).str.fullmatch(pattern).all(), value
    expected = load_model(model).predict_proba(texts)
    proba = np.array([[float(value) for value in row[1:]] for row in rows])
    np.testing.assert_allclose(proba, expected, rtol=0, atol=0.5 * 10**-places + 1e-12)


def test_decimals_must_be_a_count(trained, capsys):
    model, data, _, _ = trained
    code, _, err = run(capsys, "predict", model, data, "--decimals", "-1")
    assert code == 2
    assert "expected a whole number, 0 or more: '-1'" in err


# --- what the model gets wrong ----------------------------------------------------


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory):
    """A model trained one epoch, so that it gets some texts wrong; trained
    in a process of its own, as a user runs the command."""
    model, _, texts, labels = train_by_command(
        tmp_path_factory.mktemp("weak"),
        "--max-epochs", "1", "--lr", "0.001",
        in_process=False,
    )  # fmt: skip
    return model, texts, labels


def test_evaluate_writes_every_misclassified_text(weak_model, tmp_path, capsys):
    model, texts, labels = weak_model
    ids = [f"t{index}" for index in range(len(texts))]
    data = tmp_path / "test.csv"
    pd.DataFrame({"id": ids, "text": texts, "label": labels}).to_csv(data, index=False)
    errors = tmp_path / "errors.csv.gz"
    code, out, err = run(
        capsys, "evaluate", model, data, "--id-column", "id", "--errors", errors
    )
    assert code == 0, err
    fitted = load_model(model)
    predicted = fitted.predict(texts)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    assert 0 < len(wrong) < len(texts)
    assert f"Wrote {len(wrong)} misclassified texts to {errors}" in err
    written = pd.read_csv(errors, keep_default_na=False)
    assert list(written.columns) == [
        "id", "text", "label", "predicted", "proba_neg", "proba_pos"
    ]  # fmt: skip
    assert written["id"].tolist() == [ids[i] for i in wrong]
    assert written["text"].tolist() == [texts[i] for i in wrong]
    assert written["label"].tolist() == [labels[i] for i in wrong]
    assert written["predicted"].tolist() == predicted[wrong].tolist()
    np.testing.assert_allclose(
        written[["proba_neg", "proba_pos"]].to_numpy(),
        fitted.predict_proba([texts[i] for i in wrong]),
        rtol=0,
        atol=WRITTEN_PRECISION,
    )


def test_evaluate_numbers_the_rows_without_an_id_column(weak_model, tmp_path, capsys):
    model, texts, labels = weak_model
    data = write_data(tmp_path / "test.csv", texts, labels)
    errors = tmp_path / "errors.csv"
    code, _, err = run(capsys, "evaluate", model, data, "--errors", errors, "-q")
    assert code == 0, err
    wrong = np.flatnonzero(load_model(model).predict(texts) != np.asarray(labels))
    rows = pd.read_csv(errors)["row"].tolist()
    # row n is the n-th text, counted from 1 as a user reads a file
    assert rows == (wrong + 1).tolist()


def test_evaluate_shows_the_mistakes_it_was_surest_of(weak_model, tmp_path, capsys):
    model, texts, labels = weak_model
    data = write_data(tmp_path / "test.csv", texts, labels)
    code, out, err = run(capsys, "evaluate", model, data, "--show-errors", "3")
    assert code == 0, err
    fitted = load_model(model)
    proba = fitted.predict_proba(texts)
    predicted = fitted.classes_[proba.argmax(axis=1)]
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    surest = wrong[np.argsort(-proba[wrong].max(axis=1), kind="stable")[:3]]
    shown = out.split("Misclassified: ")[1].splitlines()
    assert shown[0] == (
        f"{len(wrong)} of {len(texts)} texts; the 3 the model was surest of:"
    )
    for line, index in zip(shown[1:], surest, strict=True):
        assert line.startswith(
            f"  row {index + 1}: true {labels[index]}, predicted {predicted[index]} "
            f"(p={proba[index].max():.4f}): "
        )
        assert line.endswith(" ".join(texts[index].split())[:97])


def test_evaluate_refuses_to_write_errors_over_its_data(trained, capsys):
    model, data, _, _ = trained
    code, _, err = run(capsys, "evaluate", model, data, "--errors", data)
    assert_usage_error(code, err, "it is the data file, which would be overwritten")


# --- a validation file ------------------------------------------------------------


def test_train_stops_early_on_a_validation_file(tmp_path, capsys):
    texts, labels = texts_and_labels()
    numbers = [{"neg": 0, "pos": 1}[label] for label in labels]
    data = write_data(tmp_path / "train.csv", texts[:40], numbers[:40])
    dev = write_data(tmp_path / "dev.tsv", texts[40:], numbers[40:])
    model = tmp_path / "m.safetensors"
    code, out, err = run(
        capsys, "train", data, "--validation-data", dev, *TINY, "-o", model
    )
    assert code == 0, err
    assert f"Read 20 texts from {dev} for validation." in err
    assert "Early stopping is on, judged on the 20 validation texts given" in out
    assert "Trained on 40 texts (validated on 20 texts of --validation-data)" in out
    fitted = load_model(model)
    assert fitted.best_epoch_ is not None
    # the integer labels of both files were read alike
    assert fitted.classes_.tolist() == [0, 1]


def test_a_validation_file_with_labels_unknown_to_training_is_refused(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "train.csv", texts[:40], labels[:40])
    dev = write_data(tmp_path / "dev.csv", texts[40:], ["spam"] * 20)
    model = tmp_path / "m.safetensors"
    code, _, err = run(
        capsys, "train", data, "--validation-data", dev, *TINY, "-o", model
    )
    assert_usage_error(
        code, err, "column 'label' has labels that the training data has not: 'spam'"
    )
    assert not model.exists()


def test_the_validation_file_is_never_the_output(trained, tmp_path, capsys):
    _, data, texts, labels = trained
    dev = write_data(tmp_path / "dev.csv", texts, labels)
    code, _, err = run(capsys, "train", data, "--validation-data", dev, "-o", dev)
    assert_usage_error(code, err, "it is the validation data file")


def test_validation_labels_are_matched_to_the_training_labels_by_value(
    tmp_path, capsys
):
    texts, labels = texts_and_labels()
    truths = [label == "pos" for label in labels]
    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": text, "label": truth}) + "\n"
            for text, truth in zip(texts[:40], truths[:40], strict=True)
        ),
        encoding="utf-8",
    )
    dev = write_data(
        tmp_path / "dev.csv", texts[40:], [str(t).lower() for t in truths[40:]]
    )
    model = tmp_path / "m.safetensors"
    code, _, err = run(
        capsys, "train", data, "--validation-data", dev, *TINY, "-q", "-o", model
    )
    assert code == 0, err
    assert load_model(model).classes_.tolist() == [False, True]


# --- what a second look found -------------------------------------------------------


def test_a_column_two_options_name_is_read_once(trained, tmp_path, capsys):
    model, data, texts, labels = trained
    code, out, err = run(capsys, "predict", model, data, "--id-column", "text", "-q")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert [row[0] for row in rows[1:]] == texts
    code, out, err = run(capsys, "evaluate", model, data, "--id-column", "label")
    assert code == 0, err
    assert f"on {len(texts)} texts" in out


def test_json_lines_labels_that_look_like_integers_stay_text(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": text, "label": {"neg": "0", "pos": "1"}[label]}) + "\n"
            for text, label in zip(texts, labels, strict=True)
        ),
        encoding="utf-8",
    )
    model = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", data, *TINY, "-q", "-o", model)
    assert code == 0, err
    assert load_model(model).classes_.tolist() == ["0", "1"]


def test_integers_beyond_int64_stay_text():
    huge = ["98765432109876543210", "1"]
    assert read_labels(huge) == huge
    assert read_labels([str(2**63 - 1), "-1"]) == [2**63 - 1, -1]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_the_byte_offset_counts_the_byte_order_mark(suffix, trained, tmp_path, capsys):
    model, _, _, _ = trained
    body = (
        b"text,label\nab,0\ncd\xe9,1\n"
        if suffix == "csv"
        else b'{"text": "ab"}\n{"text": "cd\xe9"}\n'
    )
    content = codecs.BOM_UTF8 + body
    data = tmp_path / f"bom.{suffix}"
    data.write_bytes(content)
    code, _, err = run(capsys, "predict", model, data)
    offset = content.index(b"\xe9")
    assert_usage_error(code, err, f"byte offset {offset}: b'\\xe9' is not UTF-8")


def test_a_character_cut_short_by_the_end_of_the_file_is_located(
    trained, tmp_path, capsys
):
    model, _, _, _ = trained
    content = b"text\nab\ncd\xc3"
    data = tmp_path / "cut.csv"
    data.write_bytes(content)
    code, _, err = run(capsys, "predict", model, data)
    assert_usage_error(code, err, "line 3, byte offset 10: b'\\xc3' is not UTF-8")


@pytest.mark.parametrize("codec", ["hex", "rot13"])
def test_a_codec_that_is_not_a_text_encoding_is_refused(codec, trained, capsys):
    model, data, _, _ = trained
    code, _, err = run(capsys, "predict", model, data, "--encoding", codec)
    assert_usage_error(code, err, f"unknown encoding '{codec}' for --encoding")


def test_a_position_in_other_digits_is_refused(trained, tmp_path, capsys):
    model, _, _, _ = trained
    data = write_lines(tmp_path / "d.csv", ["good film,pos"])
    code, _, err = run(
        capsys, "predict", model, data, "--no-header", "--text-column", "\u00b2"
    )
    assert_usage_error(code, err, "columns are given by position")


# --- unlabeled texts --------------------------------------------------------------


def test_train_pretrains_on_a_file_of_unlabeled_texts(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "train.csv", texts[:30], labels[:30])
    # a file of texts alone, gzip-compressed JSON Lines: the columns and
    # options of DATA apply, the label column is not read
    extra, _ = texts_and_labels(50, seed=9)
    unlabeled = write_data(tmp_path / "more.jsonl.gz", [f"{t} rare" for t in extra])
    model = tmp_path / "m.safetensors"
    code, out, err = run(
        capsys, "train", data, "--unlabeled", unlabeled, "--pretrain", "lm",
        "--pretrain-epochs", "2", *TINY, "-o", model,
    )  # fmt: skip
    assert code == 0, err
    assert f"Read 50 texts without labels from {unlabeled}." in err
    assert "pretraining epoch 2/2: language-model loss" in out
    assert "Trained on 30 texts" in out
    fitted = load_model(model)
    assert len(fitted.pretrain_loss_) == 2
    assert "rare" in fitted.vectorizer_.vocabulary_


def test_train_self_trains_on_a_file_of_unlabeled_texts(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "train.csv", texts[:30], labels[:30])
    extra, _ = texts_and_labels(50, seed=9)
    unlabeled = write_data(tmp_path / "more.csv", extra)
    model = tmp_path / "m.safetensors"
    code, out, err = run(
        capsys, "train", data, "--unlabeled", unlabeled,
        "--self-training-rounds", "1", "--self-training-threshold", "0",
        *TINY, "-o", model,
    )  # fmt: skip
    assert code == 0, err
    assert "Self-training round 1: 50 more texts labelled" in out
    assert load_model(model).self_labelled_per_round_ == [50]


def test_unlabeled_texts_without_pretraining_are_refused(tmp_path, capsys):
    texts, labels = texts_and_labels()
    data = write_data(tmp_path / "train.csv", texts, labels)
    more = write_data(tmp_path / "more.csv", texts)
    code, _, err = run(
        capsys, "train", data, "--unlabeled", more, *TINY, "-o", tmp_path / "m"
    )
    assert_usage_error(code, err, "--unlabeled texts are learnt from only with")
