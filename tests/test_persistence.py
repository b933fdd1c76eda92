"""save_model and load_model: round trips, and refusing bad or hostile files."""

import copy
import errno
import json
import os
import pickle
import resource
import shutil
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import FAST, keyword_data
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from sklearn_rnn import (
    RNNClassifier,
    RNNTextClassifier,
    TextVectorizer,
    load_model,
    save_model,
)
from sklearn_rnn._model_file import DIGEST_KEY, FORMAT_VERSION, _digest


@pytest.fixture(scope="module")
def data():
    return keyword_data(100, seed=7)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return RNNTextClassifier(**FAST).fit(X, y)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(fitted, path)
    return path


def read_file(path):
    with safe_open(path, framework="pt") as file:
        return file.metadata(), {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118


def rewrite(path, tensors, metadata):
    save_file(tensors, path, metadata=metadata)
    return path


def resealed(metadata, tensors):
    """``metadata`` with the digest of a file edited on purpose, made anew.

    Anyone can do this: the digest detects damage, it is no signature. The
    tests of what load_model refuses beyond damage use it.
    """
    metadata = {key: value for key, value in metadata.items() if key != DIGEST_KEY}
    return {**metadata, DIGEST_KEY: _digest(metadata, tensors)}


def reseal(path, tensors, metadata):
    return rewrite(path, tensors, resealed(metadata, tensors))


def edit_description(path, edit):
    metadata, tensors = read_file(path)
    description = json.loads(metadata["model"])
    edit(description)
    metadata["model"] = json.dumps(description)
    return reseal(path, tensors, metadata)


@pytest.mark.parametrize(
    ("params", "labels"),
    [
        ({}, None),
        ({"pooling": "attention", "cell": "gru"}, None),
        ({"bidirectional": False, "num_layers": 2, "pooling": "last"}, None),
        ({"class_weight": {"neg": 2.0, "pos": 1.0}}, None),
        ({}, "int"),
        ({}, "bool"),
    ],
)
def test_a_loaded_model_predicts_exactly_as_the_saved_one(
    data, tmp_path, params, labels
):
    X, y = data
    if labels == "int":
        y = np.where(y == "pos", 7, -3)
    elif labels == "bool":
        y = y == "pos"
    model = RNNTextClassifier(**FAST, **params).fit(X, y)
    save_model(model, tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    assert type(loaded) is RNNTextClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.get_params() == model.get_params()
    assert loaded.vectorizer_.vocabulary_ == model.vectorizer_.vocabulary_
    assert loaded.history_ == model.history_
    assert loaded.n_epochs_ == model.n_epochs_


def test_a_pipeline_of_vectorizer_and_classifier_round_trips(data, tmp_path):
    X, y = data
    pipeline = Pipeline(
        [("vec", TextVectorizer(max_len=20)), ("rnn", RNNClassifier(**FAST))]
    ).fit(X, y)
    save_model(pipeline, tmp_path / "pipe.safetensors")
    loaded = load_model(tmp_path / "pipe.safetensors")
    assert [name for name, _ in loaded.steps] == ["vec", "rnn"]
    assert loaded.get_params()["vec__max_len"] == 20
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


@pytest.mark.parametrize("kind", ["vectorizer", "mapping", "array"])
def test_a_fixed_vocabulary_is_saved_as_its_tokens(data, tmp_path, kind):
    X, y = data
    vectorizer = TextVectorizer(min_df=2).fit(X)
    vocabulary = {
        "vectorizer": vectorizer,
        "mapping": dict(reversed(vectorizer.vocabulary_.items())),
        "array": np.array(list(vectorizer.vocabulary_)),
    }[kind]
    clf = RNNTextClassifier(**FAST, vocabulary=vocabulary).fit(X, y)
    save_model(clf, tmp_path / "fixed.safetensors")
    loaded = load_model(tmp_path / "fixed.safetensors")
    assert loaded.vocabulary == list(vectorizer.vocabulary_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    # a pipeline's vectorizer with an array vocabulary is saved as well
    pipeline = Pipeline(
        [
            ("vec", TextVectorizer(vocabulary=np.array(list(vectorizer.vocabulary_)))),
            ("rnn", RNNClassifier(**FAST)),
        ]
    ).fit(X, y)
    save_model(pipeline, tmp_path / "pipe.safetensors")
    assert load_model(tmp_path / "pipe.safetensors")[0].vocabulary == list(
        vectorizer.vocabulary_
    )


def test_a_loaded_model_trains_on_with_warm_start(data, saved):
    X, y = data
    loaded = load_model(saved)
    loaded.set_params(warm_start=True, max_epochs=1)
    before = loaded.predict_proba(X)
    loaded.fit(X, y)
    assert loaded.n_epochs_ == FAST["max_epochs"] + 1
    assert not np.allclose(loaded.predict_proba(X), before)


def test_a_model_set_up_for_a_gpu_loads_on_the_cpu(data, fitted, tmp_path):
    model = pickle.loads(pickle.dumps(fitted)).set_params(device="cuda")
    save_model(model, tmp_path / "gpu.safetensors")
    loaded = load_model(tmp_path / "gpu.safetensors")
    assert loaded.net_.device == "cpu"
    assert loaded.get_params()["device"] == "cuda"
    X, _ = data
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_loading_onto_a_missing_gpu_is_a_clear_error(saved):
    with pytest.raises(ValueError, match="CUDA is not available"):
        load_model(saved, device="cuda")


def test_saving_leaves_only_the_model_file(fitted, tmp_path):
    save_model(fitted, tmp_path / "model.safetensors")
    save_model(fitted, tmp_path / "model.safetensors")  # overwrite
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_a_failed_save_leaves_no_file(fitted, tmp_path):
    with pytest.raises(OSError):
        save_model(fitted, tmp_path / "missing-folder" / "model.safetensors")
    assert os.listdir(tmp_path) == []


def test_what_cannot_be_saved_safely_is_refused(data, tmp_path):
    X, y = data
    with pytest.raises(NotFittedError):
        save_model(RNNTextClassifier(), tmp_path / "m")
    with pytest.raises(TypeError, match="RNNTextClassifier"):
        save_model(LogisticRegression(), tmp_path / "m")
    custom = RNNTextClassifier(**FAST, tokenizer=str.split).fit(X, y)
    with pytest.raises(TypeError, match="custom tokenizer"):
        save_model(custom, tmp_path / "m")
    assert os.listdir(tmp_path) == []


class _WritesAFileWhenUnpickled:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_payload_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_WritesAFileWhenUnpickled(str(marker))))
    with pytest.raises(ValueError, match="not a readable sklearn-rnn model"):
        load_model(path)
    assert not marker.exists()


def test_a_truncated_file_is_refused(saved):
    content = saved.read_bytes()
    saved.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="not a readable sklearn-rnn model"):
        load_model(saved)


def test_a_corrupted_header_is_refused(saved):
    content = bytearray(saved.read_bytes())
    content[8:40] = b"\xff" * 32
    saved.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="not a readable sklearn-rnn model"):
        load_model(saved)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        load_model(tmp_path / "nothing.safetensors")


def test_a_safetensors_file_of_something_else_is_refused(tmp_path):
    path = rewrite(tmp_path / "other.safetensors", {"w": torch.zeros(2)}, None)
    with pytest.raises(ValueError, match="not a sklearn-rnn model"):
        load_model(path)


def test_a_file_from_a_newer_format_asks_for_an_upgrade(saved):
    metadata, tensors = read_file(saved)
    newer = str(FORMAT_VERSION + 1)
    reseal(saved, tensors, {**metadata, "format_version": newer})
    with pytest.raises(ValueError, match="newer sklearn-rnn.*upgrade"):
        load_model(saved)


def test_a_file_from_an_older_library_version_of_the_same_format_loads(
    data, fitted, saved
):
    edit_description(saved, lambda d: d.update({"library_version": "0.0.1"}))
    X, _ = data
    np.testing.assert_array_equal(
        load_model(saved).predict_proba(X), fitted.predict_proba(X)
    )


def test_the_versions_that_wrote_a_model_are_recorded(saved):
    description = json.loads(read_file(saved)[0]["model"])
    assert description["torch_version"] == torch.__version__
    assert "library_version" in description


@pytest.mark.parametrize(
    "tamper",
    ["wrong_shape", "extra_key", "missing_key", "nan_weight", "wrong_dtype"],
)
def test_tampered_weights_are_refused(saved, tamper):
    metadata, tensors = read_file(saved)
    name = "embedding.weight"
    if tamper == "wrong_shape":
        tensors[name] = tensors[name][:-1].clone()
    elif tamper == "extra_key":
        tensors["backdoor.weight"] = torch.zeros(3)
    elif tamper == "missing_key":
        del tensors["head.bias"]
    elif tamper == "nan_weight":
        tensors["head.bias"] = torch.full_like(tensors["head.bias"], float("nan"))
    else:
        tensors["head.bias"] = tensors["head.bias"].double()
    reseal(saved, tensors, metadata)
    with pytest.raises(ValueError, match="consistent sklearn-rnn model"):
        load_model(saved)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["estimator"].update({"class": "Popen"}),
        lambda d: d["estimator"]["params"].update({"__class__": "x"}),
        lambda d: d["estimator"]["params"].update({"hidden_size": -1}),
        lambda d: d["estimator"]["fitted"]["vocabulary"].pop(),
        lambda d: d["estimator"]["fitted"].update({"n_tokens": "many"}),
        lambda d: d["estimator"]["fitted"]["classes"].update({"dtype": "|O"}),
        lambda d: d["estimator"]["fitted"]["classes"].update({"values": ["a"]}),
        lambda d: d.update({"kind": "exec"}),
        lambda d: d["estimator"]["fitted"].update({"self_labelled_per_round": [-1]}),
        lambda d: d["estimator"]["fitted"].update({"self_labelled_per_round": 3}),
    ],
    ids=[
        "class",
        "unknown-param",
        "bad-param",
        "short-vocabulary",
        "n_tokens",
        "object-labels",
        "one-class",
        "kind",
        "negative-self-labelled",
        "self-labelled-not-a-list",
    ],
)
def test_a_tampered_description_is_refused(saved, edit):
    edit_description(saved, edit)
    with pytest.raises(ValueError):
        load_model(saved)


def test_a_description_that_is_not_json_is_refused(saved):
    metadata, tensors = read_file(saved)
    reseal(saved, tensors, {**metadata, "model": "{not json"})
    with pytest.raises(ValueError, match="invalid model description: it is not"):
        load_model(saved)


def test_a_file_from_before_bag_of_words_existed_loads_without_it(data, tmp_path):
    X, y = data
    without_bag = RNNTextClassifier(**FAST, bag_of_words=False).fit(X, y)
    path = tmp_path / "old.safetensors"
    save_model(without_bag, path)
    edit_description(path, lambda d: d["estimator"]["params"].pop("bag_of_words"))
    loaded = load_model(path)
    assert loaded.bag_of_words is False
    np.testing.assert_array_equal(loaded.predict_proba(X), without_bag.predict_proba(X))


@pytest.mark.parametrize(
    "field, params",
    [
        ("pretrain_loss", ("pretrain", "pretrain_epochs")),
        (
            "self_labelled_per_round",
            ("self_training_rounds", "self_training_threshold"),
        ),
    ],
)
def test_a_file_from_before_unlabeled_texts_were_read_loads(
    data, fitted, saved, field, params
):
    def edit(described):
        described["estimator"]["fitted"].pop(field)
        for name in params:
            described["estimator"]["params"].pop(name)

    edit_description(saved, edit)
    X, _ = data
    loaded = load_model(saved)
    assert getattr(loaded, f"{field}_") is None
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_bag_weights_without_the_parameter_are_refused(saved):
    edit_description(saved, lambda d: d["estimator"]["params"].pop("bag_of_words"))
    with pytest.raises(ValueError, match="bag"):
        load_model(saved)


def test_the_file_describes_the_model_as_built_not_parameters_changed_since(
    data, tmp_path
):
    X, y = data
    clf = RNNTextClassifier(**FAST, max_len=6).fit(X, y)
    changed = {"bag_of_words": False, "hidden_size": 4, "cell": "gru", "max_len": 3}
    clf.set_params(pooling="mean", **changed)
    path = tmp_path / "model.safetensors"
    save_model(clf, path)
    loaded = load_model(path)
    assert loaded.get_params()["hidden_size"] == FAST["hidden_size"]
    assert loaded.bag_of_words and loaded.max_len == 6 and loaded.pooling == "max"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# --- integrity: the digest ----------------------------------------------------


def data_start(content):
    """Where a safetensors file's tensor data begins: after its JSON header."""
    return 8 + int.from_bytes(content[:8], "little")


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipped_bytes_in_the_weights_are_refused(saved, where):
    content = bytearray(saved.read_bytes())
    start = {
        "first": data_start(content),
        "middle": (data_start(content) + len(content)) // 2,
        "last": len(content) - 16,
    }[where]
    content[start : start + 16] = bytes(byte ^ 0xFF for byte in content[start:][:16])
    saved.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="is damaged: its contents do not match"):
        load_model(saved)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update({"library_version": "0.0.1"}),
        lambda d: d["estimator"]["params"].update({"hidden_size": 9}),
        lambda d: d["estimator"]["fitted"]["classes"]["values"].reverse(),
    ],
    ids=["version", "hidden_size", "classes"],
)
def test_an_edited_description_is_refused(saved, edit):
    metadata, tensors = read_file(saved)
    description = json.loads(metadata["model"])
    edit(description)
    rewrite(saved, tensors, {**metadata, "model": json.dumps(description)})
    with pytest.raises(ValueError, match="is damaged: its contents do not match"):
        load_model(saved)


@pytest.mark.parametrize(
    "edit", ["rename", "reshape", "retype", "format_version", "digest"]
)
def test_edited_tensors_or_metadata_are_refused(saved, edit):
    metadata, tensors = read_file(saved)
    if edit == "rename":
        tensors["head.bias_"] = tensors.pop("head.bias")
    elif edit == "reshape":
        tensors["head.weight"] = tensors["head.weight"].reshape(-1).contiguous()
    elif edit == "retype":
        tensors["head.bias"] = tensors["head.bias"].view(torch.int32)
    elif edit == "format_version":  # what a damaged "3" might become
        metadata["format_version"] = "1"
    else:
        metadata[DIGEST_KEY] = "0" * 64
    rewrite(saved, tensors, metadata)
    with pytest.raises(ValueError, match="is damaged: its contents do not match"):
        load_model(saved)


def test_a_file_of_the_current_format_without_a_digest_is_refused(saved):
    metadata, tensors = read_file(saved)
    del metadata[DIGEST_KEY]
    rewrite(saved, tensors, metadata)
    with pytest.raises(ValueError, match="is damaged: a file of model format 3"):
        load_model(saved)


def as_format_1(path):
    """Rewrite a model file as sklearn-rnn wrote it before the digest (and
    before the bag's idf)."""
    metadata, tensors = read_file(path)
    del metadata[DIGEST_KEY], tensors["bag_idf"]
    return rewrite(path, tensors, {**metadata, "format_version": "1"})


def as_format_2(path):
    """Rewrite a model file as sklearn-rnn wrote it before the bag's idf."""
    metadata, tensors = read_file(path)
    del tensors["bag_idf"]
    return reseal(path, tensors, {**metadata, "format_version": "2"})


def without_idf(fitted):
    """``fitted`` as a network trained before the bag's idf would predict."""
    old = copy.deepcopy(fitted)
    old.net_.module_.register_buffer("bag_idf", None)
    return old


@pytest.mark.parametrize("as_older_format", [as_format_1, as_format_2])
def test_files_of_formats_before_the_idf_load_weighting_counts_as_then(
    data, fitted, saved, as_older_format
):
    as_older_format(saved)
    X, _ = data
    loaded = load_model(saved)
    assert loaded.net_.module_.bag_idf is None
    np.testing.assert_array_equal(
        loaded.predict_proba(X), without_idf(fitted).predict_proba(X)
    )
    assert not np.allclose(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.history_ == fitted.history_


def test_the_idf_belongs_in_files_of_format_3_and_in_no_earlier_one(saved):
    metadata, tensors = read_file(saved)
    assert metadata["format_version"] == "3"
    del tensors["bag_idf"]
    reseal(saved, tensors, metadata)
    with pytest.raises(ValueError, match=r"missing \['bag_idf'\]"):
        load_model(saved)
    metadata, tensors = read_file(saved)
    tensors["bag_idf"] = torch.ones(len(tensors["bag.weight"]))
    reseal(saved, tensors, {**metadata, "format_version": "2"})
    with pytest.raises(ValueError, match=r"unexpected \['bag_idf'\]"):
        load_model(saved)


def test_a_file_of_format_1_is_still_read_field_by_field(saved):
    as_format_1(saved)
    metadata, tensors = read_file(saved)
    tensors["head.bias"] = torch.full_like(tensors["head.bias"], float("inf"))
    rewrite(saved, tensors, metadata)
    with pytest.raises(ValueError, match="'head.bias' holds NaN or infinity"):
        load_model(saved)


def test_saving_a_loaded_file_of_format_1_adds_the_digest(data, saved, tmp_path):
    as_format_1(saved)
    again = tmp_path / "again.safetensors"
    loaded = load_model(saved)
    save_model(loaded, again)
    metadata, _ = read_file(again)
    # format 2: the newest without the bag's idf, which this network has not
    assert metadata["format_version"] == "2"
    assert len(metadata[DIGEST_KEY]) == 64
    X, _ = data
    np.testing.assert_array_equal(
        load_model(again).predict_proba(X), loaded.predict_proba(X)
    )


# --- strict reading: an adversarial battery -----------------------------------
# Every file below carries a valid digest (see resealed), so each is refused by
# the check of its own content, not by the digest.


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def estimator_of(description):
    return description["estimator"]


def params_of(description):
    return description["estimator"]["params"]


def fitted_of(description):
    return description["estimator"]["fitted"]


def set_in(get, key, value):
    def edit(description):
        get(description)[key] = value

    return edit


def delete_in(get, key):
    def edit(description):
        del get(description)[key]

    return edit


def labels(dtype, values):
    return {"dtype": dtype, "values": values}


def history_row(index, **row):
    def edit(description):
        fitted_of(description)["history"][index].update(row)

    return edit


def repeat_first_token(description):
    vocabulary = fitted_of(description)["vocabulary"]
    vocabulary[1] = vocabulary[0]


def class_weights(dtype, names, weights):
    return {"labels": labels(dtype, names), "weights": weights}


ESTIMATOR_EDITS = {
    # the envelope
    "kind-type": (lambda d: d.update({"kind": 7}), "model.kind must be"),
    "no-version": (
        lambda d: d.pop("library_version"),
        r"model lacks the fields \['library_version'\]",
    ),
    "unknown-field": (lambda d: d.update({"extra": 1}), "unknown fields"),
    "version-type": (
        lambda d: d.update({"torch_version": 2}),
        "model.torch_version must be a string",
    ),
    "estimator-type": (lambda d: d.update({"estimator": []}), "must be an object"),
    # parameters
    "params-type": (set_in(estimator_of, "params", []), "params must be an object"),
    "hidden_size-str": (set_in(params_of, "hidden_size", "8"), "hidden_size"),
    "hidden_size-float": (set_in(params_of, "hidden_size", 8.0), "hidden_size"),
    "hidden_size-bool": (set_in(params_of, "hidden_size", True), "hidden_size"),
    "hidden_size-negative": (set_in(params_of, "hidden_size", -8), "hidden_size"),
    "hidden_size-huge": (
        set_in(params_of, "hidden_size", 10**9),
        "consistent.*hidden_size, 1000000000, is larger than any dimension",
    ),
    "embedding_dim-huge": (
        set_in(params_of, "embedding_dim", 2**63 - 1),
        "consistent.*embedding_dim, .* is larger than any dimension",
    ),
    "hidden_size-larger": (
        set_in(params_of, "hidden_size", 16),
        "consistent.*the network expects",
    ),
    "num_layers-huge": (
        set_in(params_of, "num_layers", 10**6),
        "num_layers=1000000 calls for more weights",
    ),
    "num_layers-more": (set_in(params_of, "num_layers", 2), "consistent.*missing"),
    "cell": (set_in(params_of, "cell", "gru"), "consistent.*expects"),
    "lr-str": (set_in(params_of, "lr", "fast"), "'lr' parameter"),
    "lr-negative": (set_in(params_of, "lr", -1.0), "'lr' parameter"),
    "dropout": (set_in(params_of, "dropout", 1.5), "'dropout' parameter"),
    "random_state": (set_in(params_of, "random_state", 2**40), "random_state"),
    "tokenizer": (
        set_in(params_of, "tokenizer", "str.split"),
        "tokenizer must be null",
    ),
    "embeddings-object": (
        set_in(params_of, "embeddings", {"good": [1.0]}),
        "embeddings must be a string",
    ),
    "token_pattern-invalid": (
        set_in(params_of, "token_pattern", "("),
        "not a valid regular expression",
    ),
    "token_pattern-type": (set_in(params_of, "token_pattern", 5), "token_pattern"),
    "vocabulary-param": (
        set_in(params_of, "vocabulary", [1, 2]),
        r"params.vocabulary\[0\] must be a str token",
    ),
    "class_weight-form": (
        set_in(params_of, "class_weight", {"neg": 2.0}),
        "class_weight lacks the fields",
    ),
    "class_weight-negative": (
        set_in(
            params_of, "class_weight", class_weights("<U3", ["neg", "pos"], [-1, 1])
        ),
        r"weights\[0\] must be a number from 0",
    ),
    "class_weight-lengths": (
        set_in(params_of, "class_weight", class_weights("<U3", ["neg"], [1, 2])),
        "has 1 labels and 2 weights",
    ),
    "class_weight-unknown-label": (
        set_in(params_of, "class_weight", class_weights("<U1", ["x"], [1.0])),
        r"params.class_weight names labels that are not among .*classes: \['x'\]",
    ),
    "class_weight-labels": (
        set_in(params_of, "class_weight", class_weights("|O", ["neg"], [1.0])),
        "labels.dtype must be",
    ),
    # fitted attributes
    "fitted-unknown": (set_in(fitted_of, "extra", 1), "fitted has unknown fields"),
    "fitted-missing": (delete_in(fitted_of, "history"), "fitted lacks the fields"),
    "n_tokens-str": (set_in(fitted_of, "n_tokens", "many"), "n_tokens must be an int"),
    "n_tokens-float": (set_in(fitted_of, "n_tokens", 34.0), "n_tokens must be an int"),
    "n_tokens-negative": (
        set_in(fitted_of, "n_tokens", -5),
        "n_tokens must be an int of at least 2",
    ),
    "n_tokens-huge": (
        set_in(fitted_of, "n_tokens", 10**12),
        "network must have .* token ids, but n_tokens is 1000000000000",
    ),
    "n_tokens-beyond-64-bits": (
        set_in(fitted_of, "n_tokens", 10**30),
        "an int beyond 64 bits",
    ),
    "vocabulary-short": (
        lambda d: fitted_of(d)["vocabulary"].pop(),
        "vocabulary has .* tokens",
    ),
    "vocabulary-repeated": (repeat_first_token, "repeats the token"),
    "vocabulary-number": (
        lambda d: fitted_of(d)["vocabulary"].__setitem__(0, 3),
        r"vocabulary\[0\] must be a str token",
    ),
    "vocabulary-type": (set_in(fitted_of, "vocabulary", "abc"), "must be an array"),
    "history-type": (set_in(fitted_of, "history", {}), "history must be an array"),
    "history-empty": (set_in(fitted_of, "history", []), "history .* is empty"),
    "history-row-type": (
        lambda d: fitted_of(d)["history"].__setitem__(0, [1.0]),
        r"history\[0\] must be an object",
    ),
    "history-epoch": (history_row(1, epoch=5), r"history\[1\].epoch must be 2; got 5"),
    "history-unknown": (history_row(0, batches=[]), "unknown fields"),
    "history-str": (history_row(0, train_loss="low"), "train_loss must be a number"),
    "history-nan": (
        history_row(0, train_loss=float("nan")),
        "it holds NaN, which no model description does",
    ),
    "history-inf": (
        history_row(2, dur=float("-inf")),
        "it holds -Infinity",
    ),
    "best_epoch-beyond": (
        set_in(fitted_of, "best_epoch", 99),
        "best_epoch must be an int from 1 to 4",
    ),
    "best_epoch-str": (set_in(fitted_of, "best_epoch", "3"), "best_epoch must be"),
    "coverage-range": (
        set_in(fitted_of, "pretrained_coverage", 2.0),
        "pretrained_coverage must be a number from 0 to 1",
    ),
    "coverage-str": (
        set_in(fitted_of, "pretrained_coverage", "x"),
        "pretrained_coverage must be a number",
    ),
    # class labels
    "classes-object-dtype": (
        set_in(fitted_of, "classes", labels("|O", ["neg", "pos"])),
        "classes.dtype must be",
    ),
    "classes-subarray-dtype": (
        set_in(fitted_of, "classes", labels("(2,)f8", [1.0, 2.0])),
        "classes.dtype must be",
    ),
    "classes-dtype-type": (
        set_in(fitted_of, "classes", labels(["<U3"], ["neg", "pos"])),
        "classes.dtype must be",
    ),
    "classes-padded": (
        set_in(fitted_of, "classes", labels("<U1000000", ["neg", "pos"])),
        "pads the labels to 1000000 characters",
    ),
    "classes-padded-2GB": (
        set_in(fitted_of, "classes", labels("<U500000000", ["neg", "pos"])),
        "pads the labels",
    ),
    "classes-too-wide-for-numpy": (
        set_in(fitted_of, "classes", labels("<U999999999", ["neg", "pos"])),
        # refused as numpy refuses it, or, where numpy takes it, as too wide
        "not a dtype numpy has|pads the labels",
    ),
    "classes-too-narrow": (
        set_in(fitted_of, "classes", labels("<U2", ["neg", "pos"])),
        "do not fit the dtype",
    ),
    "classes-str-as-float": (
        set_in(fitted_of, "classes", labels("<f8", ["neg", "pos"])),
        r"values\[0\] must be a number",
    ),
    "classes-int-as-bool": (
        set_in(fitted_of, "classes", labels("|b1", [0, 1])),
        r"values\[0\] must be a bool",
    ),
    "classes-bool-as-int": (
        set_in(fitted_of, "classes", labels("<i8", [False, True])),
        r"values\[0\] must be an int",
    ),
    "classes-float-as-int": (
        set_in(fitted_of, "classes", labels("<i8", [1.5, 2])),
        r"values\[0\] must be an int",
    ),
    "classes-uint8-overflow": (
        set_in(fitted_of, "classes", labels("|u1", [300, 1])),
        "do not fit the dtype",
    ),
    "classes-negative-uint": (
        set_in(fitted_of, "classes", labels("<u8", [-1, 1])),
        "do not fit the dtype",
    ),
    "classes-float16-inexact": (
        set_in(fitted_of, "classes", labels("<f2", [0.1, 0.2])),
        "do not fit the dtype",
    ),
    "classes-float16-overflow": (
        set_in(fitted_of, "classes", labels("<f2", [1e10, 1.0])),
        "do not fit the dtype",
    ),
    "classes-repeated": (
        set_in(fitted_of, "classes", labels("<U3", ["neg", "neg"])),
        "repeat a label",
    ),
    "classes-one": (
        set_in(fitted_of, "classes", labels("<U3", ["neg"])),
        "at least 2 labels",
    ),
    "classes-values-type": (
        set_in(fitted_of, "classes", labels("<U3", {"neg": 0})),
        "classes.values must be an array",
    ),
    "classes-missing-dtype": (
        set_in(fitted_of, "classes", {"values": ["neg", "pos"]}),
        "classes lacks the fields",
    ),
    "classes-three-for-two-outputs": (
        set_in(fitted_of, "classes", labels("<U3", ["neg", "pos", "zzz"])),
        "consistent.*has shape .* the network expects",
    ),
    # nesting
    "nested-parameter": (
        set_in(params_of, "device", nested(20)),
        "nests objects and arrays more than 8 deep",
    ),
}


@pytest.mark.parametrize("case", list(ESTIMATOR_EDITS))
def test_an_adversarial_description_is_refused(saved, case):
    edit, message = ESTIMATOR_EDITS[case]
    edit_description(saved, edit)
    with pytest.raises(ValueError, match=message) as refusal:
        load_model(saved)
    assert refusal.type is ValueError
    assert str(saved) in str(refusal.value)


def replace_text(old, new):
    return lambda text: text.replace(old, new, 1)


TEXT_EDITS = {
    "not-an-object": (lambda text: "[]", "must be a JSON object"),
    "deep-nesting": (
        lambda text: "[" * 100_000 + "]" * 100_000,
        "nests objects and arrays more than 8 deep",
    ),
    "deep-objects": (
        lambda text: '{"a":' * 100_000 + "1" + "}" * 100_000,
        "nests objects and arrays more than 8 deep",
    ),
    "number-beyond-float": (
        replace_text('"pretrained_coverage": null', '"pretrained_coverage": 1e400'),
        "it holds the number 1e400, beyond the range of a float",
    ),
    "int-of-5000-digits": (
        replace_text('"best_epoch": null', '"best_epoch": ' + "9" * 5000),
        "not valid JSON",
    ),
    "truncated-json": (lambda text: text[: len(text) // 2], "not valid JSON"),
}


@pytest.mark.parametrize("case", list(TEXT_EDITS))
def test_an_adversarial_description_text_is_refused(saved, case):
    edit, message = TEXT_EDITS[case]
    metadata, tensors = read_file(saved)
    reseal(saved, tensors, {**metadata, "model": edit(metadata["model"])})
    with pytest.raises(ValueError, match=message) as refusal:
        load_model(saved)
    assert refusal.type is ValueError


@pytest.fixture(scope="module")
def fitted_pipeline(data):
    X, y = data
    return Pipeline([("vec", TextVectorizer()), ("rnn", RNNClassifier(**FAST))]).fit(
        X, y
    )


@pytest.fixture
def saved_pipeline(fitted_pipeline, tmp_path):
    path = tmp_path / "pipeline.safetensors"
    save_model(fitted_pipeline, path)
    return path


def step(index, *keys):
    def get(description):
        value = description["steps"][index]
        for key in keys:
            value = value[key]
        return value

    return get


PIPELINE_EDITS = {
    "three-steps": (
        lambda d: d["steps"].append(d["steps"][0]),
        "must hold 2 steps",
    ),
    "steps-type": (lambda d: d.update({"steps": {}}), "steps must be an array"),
    "same-names": (set_in(step(1), "name", "vec"), "names both steps 'vec'"),
    "name-with-dunder": (set_in(step(0), "name", "a__b"), "without '__'"),
    "name-type": (set_in(step(0), "name", 3), r"steps\[0\].name must be a string"),
    "step-missing-estimator": (
        delete_in(step(0), "estimator"),
        r"steps\[0\] lacks the fields \['estimator'\]",
    ),
    "steps-swapped": (
        lambda d: d["steps"].reverse(),
        r"steps\[0\].estimator.class must be 'TextVectorizer'",
    ),
    "vectorizer-fitted": (
        set_in(step(0, "estimator", "fitted"), "n_tokens", 3),
        "fitted has unknown fields",
    ),
    "vectorizer-param": (
        set_in(step(0, "estimator", "params"), "max_len", 0),
        "'max_len' parameter",
    ),
    "vectorizer-vocabulary": (
        set_in(step(0, "estimator", "fitted"), "vocabulary", ["a", "a"]),
        "repeats the token 'a'",
    ),
    "n_tokens-huge": (
        set_in(step(1, "estimator", "fitted"), "n_tokens", 10**12),
        "n_tokens, 1000000000000, is larger than any dimension",
    ),
    "n_tokens-smaller": (
        set_in(step(1, "estimator", "fitted"), "n_tokens", 10),
        "weight '.*' has shape .* the network expects",
    ),
    "classifier-params": (
        set_in(step(1, "estimator", "params"), "hidden_size", 10**9),
        "hidden_size, 1000000000, is larger than any dimension",
    ),
}


@pytest.mark.parametrize("case", list(PIPELINE_EDITS))
def test_an_adversarial_pipeline_description_is_refused(saved_pipeline, case):
    edit, message = PIPELINE_EDITS[case]
    edit_description(saved_pipeline, edit)
    with pytest.raises(ValueError, match=message) as refusal:
        load_model(saved_pipeline)
    assert refusal.type is ValueError


def test_a_pipeline_with_class_weights_nests_as_deep_as_the_format_allows(
    data, tmp_path
):
    X, y = data
    pipeline = Pipeline(
        [
            ("vec", TextVectorizer()),
            ("rnn", RNNClassifier(**FAST, class_weight={"neg": 2.0, "pos": 1.0})),
        ]
    ).fit(X, y)
    save_model(pipeline, tmp_path / "pipe.safetensors")
    loaded = load_model(tmp_path / "pipe.safetensors")
    assert loaded[-1].class_weight == {"neg": 2.0, "pos": 1.0}
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


METADATA_EDITS = {
    "unknown-key": (
        lambda m: m.update({"comment": "hi"}),
        r"metadata fields that sklearn-rnn model format 3 does not have: \['comment'\]",
    ),
    "version-word": (lambda m: m.update({"format_version": "two"}), "unreadable"),
    "version-zero": (lambda m: m.update({"format_version": "0"}), "unreadable"),
    "version-underscore": (
        lambda m: m.update({"format_version": "1_0"}),
        "unreadable",
    ),
    "version-superscript": (
        lambda m: m.update({"format_version": "\u00b2"}),
        "unreadable",
    ),
    "version-huge": (
        lambda m: m.update({"format_version": "9" * 5000}),
        "unreadable",
    ),
    "no-version": (lambda m: m.pop("format_version"), "unreadable"),
    "no-description": (lambda m: m.pop("model"), "has no model description"),
    "other-format": (
        lambda m: m.update({"format": "pickle"}),
        "not a sklearn-rnn model",
    ),
}


@pytest.mark.parametrize("case", list(METADATA_EDITS))
def test_adversarial_metadata_is_refused(saved, case):
    edit, message = METADATA_EDITS[case]
    metadata, tensors = read_file(saved)
    edit(metadata)
    rewrite(saved, tensors, metadata)
    with pytest.raises(ValueError, match=message) as refusal:
        load_model(saved)
    assert refusal.type is ValueError


def replace_tensor(name, change):
    def edit(tensors):
        tensors[name] = change(tensors[name]).contiguous()

    return edit


TENSOR_EDITS = {
    "float64": (replace_tensor("embedding.weight", torch.Tensor.double), "float64"),
    "float16": (replace_tensor("head.weight", torch.Tensor.half), "float16"),
    "bfloat16": (replace_tensor("head.bias", torch.Tensor.bfloat16), "bfloat16"),
    "int64": (replace_tensor("head.bias", torch.Tensor.long), "int64"),
    "bool": (replace_tensor("head.bias", torch.Tensor.bool), "bool"),
    "transposed": (
        replace_tensor("head.weight", torch.Tensor.t),
        "'head.weight' has shape",
    ),
    "scalar": (replace_tensor("head.bias", lambda t: t[0]), "'head.bias' has shape"),
    "extra-scalar": (
        lambda tensors: tensors.update({"extra": torch.tensor(1.0)}),
        r"unexpected \['extra'\]",
    ),
    "empty-extra": (
        lambda tensors: tensors.update({"extra": torch.zeros(0, 10**15)}),
        r"unexpected \['extra'\]",
    ),
    "missing-all": (lambda tensors: tensors.clear(), "num_layers=1 calls for more"),
    "nan": (
        replace_tensor(
            "embedding.weight", lambda t: t.index_fill(0, torch.tensor([3]), np.nan)
        ),
        "'embedding.weight' holds NaN or infinity",
    ),
    "infinity": (
        replace_tensor("head.bias", lambda t: t.fill_(np.inf)),
        "'head.bias' holds NaN or infinity",
    ),
    "minus-infinity": (
        replace_tensor(
            "bag.weight", lambda t: t.index_fill(0, torch.tensor([5]), -np.inf)
        ),
        "'bag.weight' holds NaN or infinity",
    ),
}


@pytest.mark.parametrize("case", list(TENSOR_EDITS))
def test_adversarial_weights_are_refused(saved, case):
    edit, message = TENSOR_EDITS[case]
    metadata, tensors = read_file(saved)
    edit(tensors)
    reseal(saved, tensors, metadata)
    with pytest.raises(ValueError, match=f"consistent sklearn-rnn model: .*{message}"):
        load_model(saved)


def safetensors_file(path, header, data):
    """A file of a hand-made safetensors header and data, possibly lying."""
    header = json.dumps(header).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + data)
    return path


@pytest.mark.parametrize(
    "damage",
    [
        "empty",
        "4-bytes",
        "header-length-only",
        "half-header",
        "header-only",
        "one-byte-short",
        "one-byte-more",
        "header-length-huge",
        "header-garbage",
        "claims-a-huge-tensor",
        "claims-an-overflowing-tensor",
        "overlapping-tensors",
    ],
)
def test_a_truncated_or_malformed_file_is_refused(saved, damage):
    content = saved.read_bytes()
    start = data_start(content)
    metadata = {"format": "sklearn-rnn", "format_version": "2", "model": "{}"}
    huge = {"dtype": "F32", "shape": [10**12, 8], "data_offsets": [0, 16]}
    if damage == "empty":
        saved.write_bytes(b"")
    elif damage == "4-bytes":
        saved.write_bytes(content[:4])
    elif damage == "header-length-only":
        saved.write_bytes(content[:8])
    elif damage == "half-header":
        saved.write_bytes(content[: start // 2])
    elif damage == "header-only":
        saved.write_bytes(content[:start])
    elif damage == "one-byte-short":
        saved.write_bytes(content[:-1])
    elif damage == "one-byte-more":
        saved.write_bytes(content + b"\0")
    elif damage == "header-length-huge":
        saved.write_bytes((2**63).to_bytes(8, "little") + content[8:])
    elif damage == "header-garbage":
        saved.write_bytes(content[:8] + b"\xff" * (start - 8) + content[start:])
    elif damage == "claims-a-huge-tensor":
        safetensors_file(saved, {"__metadata__": metadata, "w": huge}, b"\0" * 16)
    elif damage == "claims-an-overflowing-tensor":
        huge = {**huge, "shape": [2**40, 2**40]}
        safetensors_file(saved, {"__metadata__": metadata, "w": huge}, b"\0" * 16)
    else:
        first = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}
        second = {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}
        header = {"__metadata__": metadata, "a": first, "b": second}
        safetensors_file(saved, header, b"\0" * 24)
    with pytest.raises(ValueError, match="not a readable sklearn-rnn model") as refusal:
        load_model(saved)
    assert refusal.type is ValueError


# Loads each file named on the command line under a limit of the process's data
# memory, and prints the outcome of each as a line of JSON.
LOAD_UNDER_MEMORY_LIMIT = """
import json, re, resource, sys
from sklearn_rnn import load_model

def data_bytes():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmData:\\s+(\\d+) kB", status).group(1)) * 1024

load_model(sys.argv[1])  # imports and warms everything up, under no limit
limit = data_bytes() + int(sys.argv[2])
hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
try:
    bytearray(2 * int(sys.argv[2]))
    print(json.dumps({"limit": "not enforced"}))
    sys.exit()
except MemoryError:
    pass
load_model(sys.argv[1])  # an intact file still loads under the limit
for path in sys.argv[3:]:
    try:
        load_model(path)
        outcome = ["loaded", ""]
    except BaseException as error:
        outcome = [type(error).__name__, str(error)]
    print(json.dumps({"file": path, "outcome": outcome}))
"""
HUNDRED_MB = 100 * 2**20


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="needs Linux's /proc"
)
def test_a_small_file_claiming_a_huge_model_allocates_nothing_large(
    saved, saved_pipeline, tmp_path
):
    larger = "is larger than any dimension of the file's weights"
    claims = {
        # 260 MB of LSTM weights, were they built
        "hidden_size": (saved, set_in(params_of, "hidden_size", 2000), larger),
        "embedding_dim": (saved, set_in(params_of, "embedding_dim", 10**5), larger),
        "num_layers": (
            saved,
            set_in(params_of, "num_layers", 10**6),
            "calls for more weights",
        ),
        "n_tokens": (
            saved_pipeline,
            set_in(step(1, "estimator", "fitted"), "n_tokens", 10**9),
            larger,
        ),
        "classes": (
            saved,
            set_in(fitted_of, "classes", labels("<U100000000", ["neg", "pos"])),
            "pads the labels",
        ),
        "class_weight": (
            saved,
            set_in(
                params_of, "class_weight", class_weights("<U100000000", ["neg"], [1])
            ),
            "pads the labels",
        ),
    }
    paths = []
    for name, (original, edit, _) in claims.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(original.read_bytes())
        paths.append(str(edit_description(path, edit)))
        assert path.stat().st_size < 20_000
    result = subprocess.run(
        [sys.executable, "-c", LOAD_UNDER_MEMORY_LIMIT, str(saved), str(HUNDRED_MB)]
        + paths,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    if lines == [{"limit": "not enforced"}]:
        pytest.skip("this kernel does not enforce RLIMIT_DATA")
    assert [line["file"] for line in lines] == paths
    for line, (_, _, expected) in zip(lines, claims.values(), strict=True):
        kind, message = line["outcome"]
        assert kind == "ValueError", (line["file"], kind, message)
        assert expected in message


# --- saving: refused models, atomic writes, permissions -----------------------


def copy_of(model):
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("head.bias", float("nan")),
        ("embedding.weight", float("inf")),
        ("layers.0.1.weight_hh_l0", float("-inf")),
    ],
)
def test_a_model_with_non_finite_weights_is_not_saved(fitted, tmp_path, name, value):
    model = copy_of(fitted)
    with torch.no_grad():
        model.net_.module_.state_dict()[name].view(-1)[1] = value
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"an older file")
    with pytest.raises(ValueError, match=f"weight {name!r} holds NaN or infinity"):
        save_model(model, path)
    assert path.read_bytes() == b"an older file"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_a_model_with_a_non_finite_number_in_its_history_is_not_saved(fitted, tmp_path):
    model = copy_of(fitted)
    model.history_[1]["train_loss"] = float("nan")
    with pytest.raises(
        ValueError, match=r"model.estimator.fitted.history\[1\].train_loss is NaN"
    ):
        save_model(model, tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == []


posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(fitted, tmp_path, umask):
    before = os.umask(umask)
    try:
        save_model(fitted, tmp_path / "model.safetensors")
    finally:
        os.umask(before)
    mode = stat.S_IMODE((tmp_path / "model.safetensors").stat().st_mode)
    assert mode == 0o666 & ~umask


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_an_overwritten_file_keeps_its_mode(data, fitted, tmp_path, mode):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"an older file")
    path.chmod(mode)
    save_model(fitted, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    X, _ = data
    np.testing.assert_array_equal(
        load_model(path).predict_proba(X), fitted.predict_proba(X)
    )


def test_saving_over_a_folder_fails_and_leaves_it(fitted, tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(OSError):
        save_model(fitted, tmp_path / "model")
    assert os.listdir(tmp_path) == ["model"]
    assert os.listdir(tmp_path / "model") == []


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_write_that_fails_leaves_the_old_file_intact(
    fitted, fitted_pipeline, tmp_path
):
    # The kernel refuses to grow any file of this process beyond the limit
    # (EFBIG), as deterministically as a full disk.
    path = tmp_path / "model.safetensors"
    save_model(fitted, path)
    old = path.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:
        with pytest.raises(OSError) as failure:
            save_model(fitted_pipeline, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert failure.value.errno == errno.EFBIG
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert type(load_model(path)) is RNNTextClassifier


@posix_only
def test_a_folder_without_write_permission_refuses_the_save(fitted, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes whatever the permissions (see the tmpfs test)")
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"an older file")
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            save_model(fitted, folder / "model.safetensors")
        assert os.listdir(folder) == ["model.safetensors"]
        assert (folder / "model.safetensors").read_bytes() == b"an older file"
    finally:
        folder.chmod(0o755)


# Run in a mount namespace of its own (unshare): mounts a small tmpfs on the
# folder, writes the old model there, fills the disk or makes the folder
# read-only, tries to save the new model over the old one, and prints what
# became of it. The mount vanishes with the process.
SAVE_ON_A_FULL_OR_READ_ONLY_DISK = """
import errno, json, os, subprocess, sys
from sklearn_rnn import load_model, save_model

folder, old, new, fault = sys.argv[1:5]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder], check=True)
target = os.path.join(folder, "model.safetensors")
with open(old, "rb") as file:
    content = file.read()
with open(target, "wb") as file:
    file.write(content)
model = load_model(new)
if fault == "full":
    filler = os.open(os.path.join(folder, "filler"), os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(filler, bytes(4096))
    except OSError as error:
        assert error.errno == errno.ENOSPC, error
    os.close(filler)
else:
    subprocess.run(["mount", "-o", "remount,ro", folder], check=True)
try:
    save_model(model, target)
    outcome = "saved"
except OSError as error:
    outcome = errno.errorcode[error.errno]
with open(target, "rb") as file:
    intact = file.read() == content
print(json.dumps({
    "outcome": outcome,
    "intact": intact,
    "files": sorted(os.listdir(folder)),
    "loads": type(load_model(target)).__name__,
}))
"""


def can_mount_a_tmpfs(folder):
    """Whether this machine lets a process mount a tmpfs in its own namespace."""
    if shutil.which("unshare") is None:
        return False, "the unshare command is missing"
    probe = subprocess.run(
        ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0, probe.stderr.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux mounts")
@pytest.mark.parametrize(
    ("fault", "errno_name", "files"),
    [
        ("full", "ENOSPC", ["filler", "model.safetensors"]),
        ("read-only", "EROFS", ["model.safetensors"]),
    ],
)
def test_a_full_or_read_only_disk_leaves_the_old_file_intact(
    saved, saved_pipeline, tmp_path, fault, errno_name, files
):
    folder = tmp_path / "disk"
    folder.mkdir()
    allowed, reason = can_mount_a_tmpfs(str(folder))
    if not allowed:
        pytest.skip(f"cannot mount a tmpfs in a namespace here: {reason}")
    result = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", SAVE_ON_A_FULL_OR_READ_ONLY_DISK]
        + [str(folder), str(saved), str(saved_pipeline), fault],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "outcome": errno_name,
        "intact": True,
        "files": files,
        "loads": "RNNTextClassifier",
    }
    assert os.listdir(folder) == []  # the mount went with the process


def test_the_digest_is_the_documented_sha256(saved):
    """Recomputed here from the recipe in the docs, not with the module's own
    function: files written today must keep loading whatever changes."""
    import hashlib

    with safe_open(saved, framework="pt") as file:
        metadata = file.metadata()
        tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    names = sorted(tensors)
    layout = {
        "metadata": [metadata[key] for key in ("format", "format_version", "model")],
        "tensors": [
            [name, str(tensors[name].dtype), list(tensors[name].shape)]
            for name in names
        ],
    }
    digest = hashlib.sha256(json.dumps(layout).encode())
    for name in names:
        digest.update(tensors[name].contiguous().view(-1).view(torch.uint8).numpy())
    assert metadata[DIGEST_KEY] == digest.hexdigest()
