"""Pretrained word vectors: reading, alignment to the vocabulary, freezing."""

import gzip
import pickle

import numpy as np
import pytest
from helpers import FAST, keyword_data
from sklearn.base import clone

from sklearn_rnn import RNNClassifier, RNNTextClassifier, TextVectorizer

DIM = 8


def vectors_for(tokens, seed=0):
    rng = np.random.RandomState(seed)
    return {token: rng.normal(size=DIM).round(4).astype(np.float32) for token in tokens}


def write_vectors(path, vectors, header=False, opener=open):
    with opener(path, "wt", encoding="utf-8") as file:
        if header:
            file.write(f"{len(vectors)} {DIM}\n")
        for token, vector in vectors.items():
            file.write(
                token + " " + " ".join(f"{value:.4f}" for value in vector) + "\n"
            )
    return path


def embedding_rows(clf, tokens):
    weights = clf.net_.module_.embedding.weight.detach().numpy()
    return {token: weights[clf.vectorizer_.vocabulary_[token]] for token in tokens}


def frozen(X, y, embeddings, **params):
    return RNNTextClassifier(
        **{**FAST, "embeddings": embeddings, "freeze_embeddings": True, **params}
    ).fit(X, y)


@pytest.fixture
def data():
    return keyword_data(80, seed=3)


@pytest.fixture
def known(data):
    """Vectors for every second token of the data's vocabulary, plus others."""
    vocabulary = TextVectorizer().fit(data[0]).vocabulary_
    return vectors_for([*sorted(vocabulary)[::2], "absent", "words"])


@pytest.mark.parametrize(
    "write",
    [
        lambda path, vectors: write_vectors(path / "glove.txt", vectors),
        lambda path, vectors: write_vectors(path / "w2v.txt", vectors, header=True),
        lambda path, vectors: write_vectors(
            path / "glove.txt.gz", vectors, opener=gzip.open
        ),
        lambda path, vectors: str(write_vectors(path / "glove.txt", vectors)),
        lambda path, vectors: vectors,
    ],
    ids=["glove", "word2vec-header", "gzip", "str-path", "dict"],
)
def test_pretrained_vectors_start_the_embedding(data, known, tmp_path, write):
    X, y = data
    clf = frozen(X, y, write(tmp_path, known))
    in_vocabulary = [token for token in known if token in clf.vectorizer_.vocabulary_]
    for token, row in embedding_rows(clf, in_vocabulary).items():
        np.testing.assert_allclose(row, known[token], atol=1e-6)
    assert clf.pretrained_coverage_ == pytest.approx(
        len(in_vocabulary) / len(clf.vectorizer_.vocabulary_)
    )


def test_gensim_keyed_vectors_are_read(data, known):
    gensim_models = pytest.importorskip("gensim.models")
    keyed = gensim_models.KeyedVectors(DIM)
    keyed.add_vectors(list(known), np.stack(list(known.values())))
    X, y = data
    clf = frozen(X, y, keyed)
    in_vocabulary = [token for token in known if token in clf.vectorizer_.vocabulary_]
    assert in_vocabulary
    for token, row in embedding_rows(clf, in_vocabulary).items():
        np.testing.assert_allclose(row, known[token], atol=1e-6)


def test_frozen_embeddings_do_not_change_and_others_do(data, known):
    X, y = data
    frozen_clf = frozen(X, y, known)
    trained = RNNTextClassifier(**FAST, embeddings=known).fit(X, y)
    tokens = [token for token in known if token in trained.vectorizer_.vocabulary_]
    for token in tokens:
        np.testing.assert_allclose(
            embedding_rows(frozen_clf, [token])[token], known[token], atol=1e-6
        )
    moved = [
        not np.allclose(embedding_rows(trained, [token])[token], known[token])
        for token in tokens
    ]
    assert all(moved)


def test_tokens_without_a_vector_start_on_the_vectors_scale(data):
    X, y = data
    vocabulary = TextVectorizer().fit(X).vocabulary_
    rng = np.random.RandomState(0)
    some = {token: 10 + 3 * rng.normal(size=DIM) for token in sorted(vocabulary)[:20]}
    clf = frozen(X, y, some)
    missing = [token for token in vocabulary if token not in some]
    rows = np.stack(list(embedding_rows(clf, missing).values()))
    assert 7 < rows.mean() < 13
    assert 1.5 < rows.std() < 5


def test_missing_vectors_follow_each_dimension_of_the_found_ones(data):
    X, y = data
    vocabulary = TextVectorizer().fit(X).vocabulary_
    rng = np.random.RandomState(1)
    offsets = np.array([0, 100, -50, 0, 0, 0, 0, 7.0])
    some = {t: offsets + 0.1 * rng.normal(size=DIM) for t in sorted(vocabulary)[:20]}
    clf = frozen(X, y, some)
    missing = [token for token in vocabulary if token not in some]
    rows = np.stack(list(embedding_rows(clf, missing).values()))
    np.testing.assert_allclose(rows.mean(axis=0), offsets, atol=0.2)
    assert rows.std(axis=0).max() < 0.3


def test_a_vector_spelt_in_capitals_serves_the_lowercased_token(data):
    X, y = data
    exact, capital = np.full(DIM, 1.0), np.full(DIM, 2.0)
    clf = frozen(X, y, {"KEY0": capital, "Key1": capital, "key1": exact})
    rows = embedding_rows(clf, ["key0", "key1"])
    np.testing.assert_allclose(rows["key0"], capital)
    np.testing.assert_allclose(rows["key1"], exact)


def test_padding_and_unknown_rows_start_at_zero(data, known):
    X, y = data
    weights = frozen(X, y, known).net_.module_.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(weights[:2], 0)


def test_a_dimension_mismatch_names_both_sizes(data, known):
    X, y = data
    with pytest.raises(ValueError, match=r"shape \(8,\).*embedding_dim=16"):
        RNNTextClassifier(**{**FAST, "embedding_dim": 16}, embeddings=known).fit(X, y)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("key0 0.1 0.2 oops 0.4 0.5 0.6 0.7 0.8\n", "not a sequence of numbers"),
        ("key0\n", "holds no vector"),
        ("key0 " + " ".join(["nan"] * DIM) + "\n", "NaN"),
    ],
)
def test_a_malformed_vector_file_is_a_clear_error(data, tmp_path, content, message):
    path = tmp_path / "vectors.txt"
    path.write_text(content, encoding="utf-8")
    X, y = data
    with pytest.raises(ValueError, match=message):
        RNNTextClassifier(**FAST, embeddings=path).fit(X, y)


def test_file_quirks_of_real_vector_files_are_read(data, tmp_path):
    # GloVe 840B has tokens with spaces; files may start with a byte-order
    # mark, hold a stray carriage return inside a token, or lines with no
    # vector for tokens nobody asked for.
    X, y = data
    numbers = " ".join(["0.5"] * DIM)
    path = tmp_path / "quirks.txt"
    path.write_text(
        f"\ufeffkey0 {numbers}\n"
        f"at key1 {numbers.replace('0.5', '9')}\n"
        f"odd\rtoken {numbers}\n"
        "lonely\n"
        f"key1 {numbers.replace('0.5', '0.25')}\n",
        encoding="utf-8",
        newline="",
    )
    rows = embedding_rows(frozen(X, y, path), ["key0", "key1"])
    np.testing.assert_allclose(rows["key0"], 0.5)
    np.testing.assert_allclose(rows["key1"], 0.25)


def test_a_binary_file_is_refused_with_a_hint(data, tmp_path):
    path = tmp_path / "vectors.bin"
    path.write_bytes(b"3 8\nkey0 \xff\xfe\x00\x81" * 10)
    X, y = data
    with pytest.raises(ValueError, match="binary=True"):
        RNNTextClassifier(**FAST, embeddings=path).fit(X, y)


def test_a_missing_file_is_a_clear_error(data, tmp_path):
    X, y = data
    with pytest.raises(FileNotFoundError, match="No word-vector file"):
        RNNTextClassifier(**FAST, embeddings=tmp_path / "nope.txt").fit(X, y)


def test_vectors_sharing_no_token_with_the_vocabulary_warn(data):
    X, y = data
    with pytest.warns(UserWarning, match="None of the vocabulary"):
        clf = RNNTextClassifier(**FAST, embeddings=vectors_for(["zebra"])).fit(X, y)
    assert clf.pretrained_coverage_ == 0


@pytest.mark.parametrize("embeddings", [42, ["key0"], np.zeros((3, DIM))])
def test_embeddings_of_the_wrong_kind_name_the_parameter(data, embeddings):
    X, y = data
    with pytest.raises(ValueError, match="'embeddings' parameter"):
        RNNTextClassifier(**FAST, embeddings=embeddings).fit(X, y)


def test_a_model_with_a_vectors_path_clones_and_pickles(data, known, tmp_path):
    X, y = data
    path = write_vectors(tmp_path / "glove.txt", known)
    clf = RNNTextClassifier(**FAST, embeddings=path).fit(X, y)
    assert clone(clf).get_params()["embeddings"] == path
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_the_callers_vectors_are_not_modified(data, known):
    X, y = data
    before = {token: vector.copy() for token, vector in known.items()}
    RNNTextClassifier(**FAST, embeddings=known).fit(X, y)
    for token, vector in known.items():
        np.testing.assert_array_equal(vector, before[token])


def test_rnn_classifier_takes_an_embedding_matrix(data):
    X, y = data
    ids = TextVectorizer().fit_transform(X)
    matrix = np.random.RandomState(0).normal(size=(ids.max() + 1, DIM))
    clf = RNNClassifier(**FAST, embeddings=matrix, freeze_embeddings=True).fit(ids, y)
    weights = clf.net_.module_.embedding.weight.detach().numpy()
    np.testing.assert_allclose(weights[2:], matrix[2:], atol=1e-6)
    np.testing.assert_array_equal(weights[:2], 0)


@pytest.mark.parametrize("shape", [(5, DIM), (200, DIM + 1), (200,)])
def test_rnn_classifier_refuses_a_matrix_of_the_wrong_shape(data, shape):
    X, y = data
    ids = TextVectorizer().fit_transform(X)
    with pytest.raises(ValueError, match="embeddings must be an array of shape"):
        RNNClassifier(**FAST, embeddings=np.zeros(shape)).fit(ids, y)


def test_rnn_classifier_refuses_word_vectors_it_cannot_align(data, known):
    X, y = data
    ids = TextVectorizer().fit_transform(X)
    with pytest.raises(ValueError, match="'embeddings' parameter"):
        RNNClassifier(**FAST, embeddings=known).fit(ids, y)


def test_the_id_classifier_reports_full_coverage_of_a_given_matrix():
    ids = np.tile([[2, 3, 4, 0]], (20, 1))
    y = np.arange(20) % 2
    plain = RNNClassifier(**{**FAST, "max_epochs": 1}).fit(ids, y)
    assert plain.pretrained_coverage_ is None
    matrix = np.ones((5, FAST["embedding_dim"]))
    given = RNNClassifier(**{**FAST, "max_epochs": 1}, embeddings=matrix).fit(ids, y)
    assert given.pretrained_coverage_ == 1.0
