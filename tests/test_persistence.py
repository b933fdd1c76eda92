"""save_model and load_model: round trips, and refusing bad or hostile files."""

import json
import os
import pickle

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
from sklearn_rnn.persistence import DIGEST_KEY, FORMAT_VERSION, _digest


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


def test_bag_weights_without_the_parameter_are_refused(saved):
    edit_description(saved, lambda d: d["estimator"]["params"].pop("bag_of_words"))
    with pytest.raises(ValueError, match="bag"):
        load_model(saved)


def test_the_file_describes_the_model_as_built_not_parameters_changed_since(
    data, tmp_path
):
    X, y = data
    clf = RNNTextClassifier(**FAST, max_len=6).fit(X, y)
    # a continued fit keeps the first fit's network and vocabulary settings
    changed = {"bag_of_words": False, "hidden_size": 4, "cell": "gru", "max_len": 3}
    clf.set_params(warm_start=True, max_epochs=1, **changed).fit(X, y)
    clf.set_params(pooling="mean")
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
    elif edit == "format_version":  # what a damaged "2" might become
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
    with pytest.raises(ValueError, match="is damaged: a file of model format 2"):
        load_model(saved)


def as_format_1(path):
    """Rewrite a model file as sklearn-rnn wrote it before the digest."""
    metadata, tensors = read_file(path)
    del metadata[DIGEST_KEY]
    return rewrite(path, tensors, {**metadata, "format_version": "1"})


def test_a_file_of_format_1_without_a_digest_loads(data, fitted, saved):
    as_format_1(saved)
    X, _ = data
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.history_ == fitted.history_


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
    save_model(load_model(saved), again)
    metadata, _ = read_file(again)
    assert metadata["format_version"] == str(FORMAT_VERSION)
    assert len(metadata[DIGEST_KEY]) == 64
    assert load_model(again).classes_.tolist() == ["neg", "pos"]
