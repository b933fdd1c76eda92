"""Numbers of every type, settings that cannot work, and fits that are all or
nothing: each case is real training, refused with a clear error, or kept as
it was."""

import ast
import copy
import inspect
import math
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import FAST, keyword_data
from sklearn.model_selection import GridSearchCV

from sklearn_rnn import (
    RNNClassifier,
    RNNTextClassifier,
    TextVectorizer,
    load_model,
    save_model,
)
from sklearn_rnn.modules import RNNModule, count_weights


@pytest.fixture(scope="module")
def data():
    return keyword_data(80, seed=31)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "param",
    ["lr", "weight_decay", "clip_grad_norm", "dropout", "validation_fraction"],
)
def test_non_finite_settings_are_refused_before_training(data, param, value, capsys):
    X, y = data
    clf = RNNTextClassifier(**FAST, verbose=1).set_params(**{param: value})
    with pytest.raises(ValueError, match=f"'{param}' parameter .* finite float"):
        clf.fit(X, y)
    assert capsys.readouterr().out == ""  # no epoch ran


@pytest.mark.parametrize(
    "sizes",
    [
        {"hidden_size": 10**9},
        {"embedding_dim": 10**12},
        {"num_layers": 10**12},
        {"max_features": None, "embedding_dim": 10**11, "bag_of_words": False},
    ],
)
def test_sizes_no_memory_holds_are_refused_before_allocating(data, sizes):
    X, y = data
    with pytest.raises(ValueError, match="too large to train.*GiB"):
        RNNTextClassifier(**{**FAST, **sizes}).fit(X, y)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize(
    ("pooling", "bidirectional", "bag_of_words"),
    [("max", True, True), ("attention", False, False), ("attention", True, True)],
)
def test_the_weight_count_is_the_built_modules(
    cell, num_layers, pooling, bidirectional, bag_of_words
):
    sizes = {
        "embedding_dim": 5,
        "hidden_size": 7,
        "num_layers": num_layers,
        "cell": cell,
        "bidirectional": bidirectional,
        "pooling": pooling,
        "bag_of_words": bag_of_words,
    }
    module = RNNModule(13, 3, **sizes)
    built = sum(weight.numel() for weight in module.parameters())
    assert count_weights(13, 3, **sizes) == built


NUMPY_SETTINGS = {
    "embedding_dim": np.int32(8),
    "hidden_size": np.int64(8),
    "num_layers": np.int64(1),
    "batch_size": np.int64(16),
    "max_epochs": np.int64(2),
    "lr": np.float32(0.02),
    "weight_decay": np.float32(0.0),
    "clip_grad_norm": np.float32(5.0),
    "dropout": np.float32(0.1),
    "max_len": np.int64(20),
    "max_features": np.int64(1000),
    "min_df": np.int64(1),
    "bidirectional": np.bool_(True),
    "random_state": np.int64(0),
}


def test_numpy_scalars_are_valid_settings_everywhere(data, tmp_path):
    X, y = data
    clf = RNNTextClassifier(device="cpu", **NUMPY_SETTINGS)
    reference = RNNTextClassifier(
        device="cpu", **{name: value.item() for name, value in NUMPY_SETTINGS.items()}
    )
    proba = clf.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba, reference.fit(X, y).predict_proba(X))
    # the user's values are left as they were
    assert all(
        type(clf.get_params()[name]) is type(value)
        for name, value in NUMPY_SETTINGS.items()
    )
    path = tmp_path / "model.safetensors"
    save_model(clf, path)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), proba)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), proba
    )


def test_a_search_over_numpy_ranges_works(data):
    X, y = data
    search = GridSearchCV(
        RNNTextClassifier(**{**FAST, "max_epochs": 1}),
        {
            "hidden_size": np.arange(4, 9, 4),
            "lr": np.linspace(0.01, 0.02, 2, dtype=np.float32),
            "batch_size": np.array([16], dtype=np.uint8),
        },
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize(
    ("ids", "shown"),
    [
        ([[2, 3, 2**70]], "1180591620717411303424"),
        (np.array([[2, 3, 2**64 - 1]], dtype=np.uint64), "18446744073709551615"),
        (np.array([[2, 3, 1e30]]), "1e\\+30"),
        (np.array([[2, 3, 2.0**63]]), "9.223372036854776e\\+18"),
    ],
    ids=["python int", "uint64", "huge float", "float 2**63"],
)
def test_ids_beyond_the_id_space_are_refused_naming_the_range(ids, shown):
    X = np.tile([[2, 3, 4]], (20, 1))
    y = np.arange(20) % 2
    bad = (list(ids) * 20) if isinstance(ids, list) else np.repeat(ids, 20, axis=0)
    message = f"token id {shown}, beyond the id space: ids must be integers in \\[0, "
    with pytest.raises(ValueError, match=message):
        RNNClassifier(**FAST).fit(bad, y)
    clf = RNNClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match=message):
        clf.predict(bad)


def test_ids_whose_embedding_no_memory_holds_are_refused_naming_the_room():
    X = np.tile([[2, 3, 10**12]], (20, 1))
    with pytest.raises(
        ValueError, match=r"ids 0 to 1,000,000,000,000.*ids up to [\d,]+ would fit"
    ):
        RNNClassifier(**FAST).fit(X, np.arange(20) % 2)


@pytest.mark.parametrize("scale", [1e-310, 1e-300, 1e300])
def test_weights_at_the_ends_of_the_float_range_train_as_their_ratios(data, scale):
    X, y = data
    ratios = np.where(y == "pos", 3.0, 1.0)
    reference = RNNTextClassifier(**FAST).fit(X, y, sample_weight=ratios)
    scaled = RNNTextClassifier(**FAST).fit(X, y, sample_weight=ratios * scale)
    np.testing.assert_allclose(
        scaled.predict_proba(X), reference.predict_proba(X), rtol=0, atol=1e-6
    )


def test_weights_whose_product_overflows_train_as_their_ratios(data):
    X, y = data
    largest = sys.float_info.max
    weights = np.where(y == "pos", largest, largest / 2)
    clf = RNNTextClassifier(**FAST, class_weight={"pos": 1e300, "neg": 1e300})
    reference = RNNTextClassifier(**FAST).fit(
        X, y, sample_weight=np.where(y == "pos", 2.0, 1.0)
    )
    np.testing.assert_allclose(
        clf.fit(X, y, sample_weight=weights).predict_proba(X),
        reference.predict_proba(X),
        rtol=0,
        atol=1e-6,
    )


@pytest.mark.parametrize("weight", [1e-40, 1e-8, 1e20, 1e35])
def test_partial_fit_refuses_weights_float32_cannot_train_on(data, weight):
    X, y = data
    clf = RNNTextClassifier(**FAST)
    with pytest.raises(ValueError, match=r"must be 0 or within \[1e-06, 1e\+15\]"):
        clf.partial_fit(X, y, classes=["neg", "pos"], sample_weight=np.full(80, weight))
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_size": 16},
        {"cell": "gru"},
        {"dropout": 0.1},
        {"bag_of_words": False},
        {"optimizer": "sgd"},
        {"max_len": 3},
        {"lowercase": False},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_continued_fit_refuses_changes_it_cannot_apply(data, change):
    X, y = data
    clf = RNNTextClassifier(**FAST, warm_start=True).fit(X, y)
    proba = clf.predict_proba(X)
    name, value = next(iter(change.items()))
    clf.set_params(**change)
    with pytest.raises(ValueError, match=f"{name}={value!r} \\(fitted with "):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=f"{name}={value!r} \\(fitted with "):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.n_epochs_ == FAST["max_epochs"]


def test_a_continued_fit_applies_a_changed_rate_decay_and_batch_size(data):
    X, y = data
    clf = RNNTextClassifier(**FAST, warm_start=True, lr_schedule="constant")
    clf.fit(X, y)
    clf.set_params(lr=0.005, weight_decay=0.01, batch_size=np.int64(8), max_epochs=1)
    clf.fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    bag = clf.net_.module_.bag.weight
    rates = {any(p is bag for p in group["params"]): group["lr"] for group in groups}
    assert rates == {False: 0.005, True: 0.05}
    assert {group["weight_decay"] for group in groups} == {0.01}
    assert clf.net_.history[-1, "train_batch_count"] == math.ceil(len(X) / 8)


# The estimator's module and its training engine's
FIT_MODULES = frozenset(
    sys.modules[name].__file__
    for name in (
        RNNTextClassifier.__module__,
        "sklearn_rnn._training",
        "sklearn_rnn._net_builder",
        "sklearn_rnn._inputs",
    )
)


class InterruptOnLine:
    """A trace function raising KeyboardInterrupt at the ``n``-th line run in
    the estimator's module or its engine: a Ctrl-C exactly there, on any
    machine."""

    def __init__(self, n, filenames=FIT_MODULES):
        self.n, self.filenames, self.seen = n, filenames, 0

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename not in self.filenames:
            return None
        if event == "line":
            self.seen += 1
            if self.seen == self.n:
                raise KeyboardInterrupt
        return self


def lines_run(fit, *args):
    counter = InterruptOnLine(0)
    sys.settrace(counter)
    try:
        fit(*args)
    finally:
        sys.settrace(None)
    return counter.seen


def unchanged(estimator, before):
    state = vars(estimator)
    return state.keys() == before.keys() and all(
        state[name] is value for name, value in before.items()
    )


@pytest.mark.parametrize("warm_start", [False, True])
def test_an_interrupt_anywhere_in_a_refit_leaves_the_estimator_as_it_was(
    data, warm_start
):
    X, y = data
    params = {**FAST, "max_epochs": 1, "warm_start": warm_start}
    refit_X, refit_y = keyword_data(40, seed=32)
    n_lines = lines_run(RNNTextClassifier(**params).fit(X, y).fit, refit_X, refit_y)
    clf = RNNTextClassifier(**params).fit(X, y)
    before = dict(vars(clf))
    weights = copy.deepcopy(clf.net_.module_.state_dict())
    optimizer_state = copy.deepcopy(clf.net_.optimizer_.state_dict())
    proba = clf.predict_proba(X)
    # one in every 40 of the lines the refit runs in the estimator's module,
    # the first and the last
    for n in sorted({*range(1, n_lines, max(1, n_lines // 40)), n_lines}):
        sys.settrace(InterruptOnLine(n))
        try:
            clf.fit(refit_X, refit_y)
        except KeyboardInterrupt:
            pass
        finally:
            sys.settrace(None)
        if not unchanged(clf, before):
            # only once the fit has handed over its new state: then all of it
            assert n >= n_lines - 1
            assert clf.n_epochs_ == (2 if warm_start else 1)
            assert clf.vectorizer_ is not before["vectorizer_"] or warm_start
            continue
        for name, weight in clf.net_.module_.state_dict().items():
            torch.testing.assert_close(weight, weights[name], rtol=0, atol=0)
        state = clf.net_.optimizer_.state_dict()["state"]
        for key, values in optimizer_state["state"].items():
            for name, value in values.items():
                torch.testing.assert_close(state[key][name], value, rtol=0, atol=0)
        assert len(clf.net_.history) == 1
    np.testing.assert_array_equal(
        RNNTextClassifier(**params).fit(X, y).predict_proba(X), proba
    )


@pytest.mark.parametrize(
    "setting",
    [
        {"lr": 10**400},
        {"lr": 2**63},
        {"embedding_dim": 10**400},
        {"batch_size": 2**64},
        {"max_len": -(2**70)},
        {"dropout": 10**400},
    ],
    ids=lambda setting: next(iter(setting)),
)
def test_python_ints_beyond_int64_are_refused_by_name(data, setting):
    X, y = data
    name = next(iter(setting))
    with pytest.raises(ValueError, match=f"The '{name}' parameter"):
        RNNTextClassifier(**{**FAST, **setting}).fit(X, y)
    with pytest.raises(ValueError, match="The 'max_len' parameter"):
        TextVectorizer(max_len=10**400).fit(X)


def test_a_batch_size_near_int64s_limit_trains_in_one_batch(data):
    X, y = data
    clf = RNNTextClassifier(**{**FAST, "batch_size": 2**62, "max_epochs": 1})
    assert clf.fit(X, y).net_.history[-1, "train_batch_count"] == 1


def test_long_double_settings_and_labels_save_and_load(data, tmp_path):
    X, y = data
    clf = RNNTextClassifier(
        **{**FAST, "lr": np.longdouble(0.02), "max_epochs": 1},
        class_weight={0.0: np.longdouble(3.0), 1.0: 1.0},
    )
    labels = (y == "pos").astype(np.longdouble)
    clf.fit(X, labels)
    save_model(clf, tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.classes_.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["2020-01-01", "NaT"] * 40, dtype="datetime64[D]"),
        np.array([1, "NaT"] * 40, dtype="timedelta64[s]"),
        [np.datetime64("2020-01-01"), np.datetime64("NaT")] * 40,
        pd.Series(pd.to_datetime(["2020-01-01", None] * 40)),
    ],
    ids=["datetime64", "timedelta64", "list of datetime64", "pandas datetimes"],
)
def test_nat_is_a_missing_label(data, labels):
    X, _ = data
    with pytest.raises(ValueError, match=r"missing label.*position\(s\) \[1, 3"):
        RNNTextClassifier(**FAST).fit(X, labels)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (pd.array([True, False] * 40, dtype="boolean"), [False, True]),
        (pd.Series([1, 2] * 40, dtype="Int64"), [1, 2]),
    ],
    ids=["boolean", "Int64"],
)
def test_pandas_nullable_labels_come_back_in_their_type(data, labels, expected):
    X, _ = data
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 1}).fit(X, labels)
    assert clf.classes_.tolist() == expected
    assert type(clf.predict(X[:1])[0].item()) is type(expected[0])


def test_partial_fit_refuses_classes_of_mixed_kinds_by_name(data):
    X, y = data
    with pytest.raises(TypeError, match="classes mixes labels of different kinds"):
        RNNTextClassifier(**FAST).partial_fit(X, y, classes=["neg", "pos", 1])


def test_a_continued_fit_refuses_a_changed_vocabulary_and_warns_of_embeddings(
    data,
):
    X, y = data
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 1}, warm_start=True).fit(X, y)
    clf.set_params(vocabulary=["key0", "key1"])
    with pytest.raises(ValueError, match="vocabulary has changed since"):
        clf.fit(X, y)
    clf.set_params(vocabulary=None, embeddings={"key0": np.ones(8)})
    with pytest.warns(UserWarning, match="embeddings only start a new network"):
        clf.fit(X, y)
    assert clf.n_epochs_ == 2


def test_partial_fit_trains_on_weights_anywhere_in_its_range(data):
    X, y = data
    scores = [
        RNNTextClassifier(**FAST)
        .partial_fit(X, y, classes=["neg", "pos"], sample_weight=np.full(80, weight))
        .partial_fit(X, y, sample_weight=np.full(80, weight))
        .score(X, y)
        for weight in (1e-6, 1.0, 1e15)
    ]
    assert min(scores) >= scores[1] - 0.1


def test_warnings_name_the_users_line(data):
    X, y = data
    with pytest.warns(UserWarning, match="no pretrained vector|None of the") as caught:
        RNNTextClassifier(
            **{**FAST, "max_epochs": 1}, embeddings={"zzz": np.ones(8)}
        ).fit(X, y)
    with pytest.warns(UserWarning, match="tokenizer is not used") as more:
        TextVectorizer(analyzer="char", tokenizer=str.split).fit(X)
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 1}, warm_start=True).fit(X, y)
    clf.set_params(embeddings={"key0": np.ones(8)})
    with pytest.warns(UserWarning, match="embeddings only start") as last:
        clf.fit(X, y)
    for record in [*caught, *more, *last]:
        assert record.filename == __file__


def _parameter_docs(estimator_class):
    """Each parameter's entry in the numpydoc Parameters section, as text."""
    doc = inspect.getdoc(estimator_class)
    section = doc.split("Parameters\n----------\n")[1].split("\nAttributes\n---")[0]
    entries, name = {}, None
    for line in section.splitlines():
        if line and not line.startswith(" "):
            name = line.split(" : ")[0].strip()
            entries[name] = []
        if name:
            entries[name].append(line)
    return {name: "\n".join(lines).strip() for name, lines in entries.items()}


def _signature_defaults(function):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize(
    "estimator_class", [RNNClassifier, RNNTextClassifier, TextVectorizer]
)
def test_documented_defaults_are_the_signatures(estimator_class):
    defaults = _signature_defaults(estimator_class)
    for name, entry in _parameter_docs(estimator_class).items():
        documented = entry.splitlines()[0].rpartition("default=")[2]
        assert ast.literal_eval(documented) == defaults[name], name


def test_defaults_agree_between_the_estimators_and_the_module():
    ids = _signature_defaults(RNNClassifier)
    texts = _signature_defaults(RNNTextClassifier)
    assert {name: texts[name] for name in ids} == ids
    assert texts["max_len"] == _signature_defaults(TextVectorizer)["max_len"]
    # The module's sizes are the estimators'. Its dropout and bag of words
    # are off unless asked for: it is a building block.
    module = _signature_defaults(RNNModule)
    shared = set(module) & set(ids) - {"dropout", "embedding_dropout", "bag_of_words"}
    assert "hidden_size" in shared
    assert {name: module[name] for name in shared} == {
        name: ids[name] for name in shared
    }
    counted = _signature_defaults(count_weights)
    assert counted == {name: module[name] for name in counted}


def test_both_estimators_document_a_shared_parameter_alike():
    ids, texts = _parameter_docs(RNNClassifier), _parameter_docs(RNNTextClassifier)
    assert set(ids) == set(inspect.signature(RNNClassifier).parameters)
    assert set(texts) == set(inspect.signature(RNNTextClassifier).parameters)
    # the two take different kinds of embeddings: a matrix, or word vectors
    meant_to_differ = {"embeddings", "freeze_embeddings"}
    differing = {name for name in set(ids) & set(texts) if ids[name] != texts[name]}
    assert differing == meant_to_differ
