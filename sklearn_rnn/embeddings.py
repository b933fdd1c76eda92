"""Pretrained word vectors, aligned to a learnt vocabulary."""

import gzip
import os
from collections.abc import Mapping

import numpy as np

from .text import FIRST_TOKEN_ID


def is_word_vectors(source):
    """Whether ``source`` is a kind of word vectors ``embedding_matrix`` takes."""
    return isinstance(source, str | os.PathLike | Mapping) or _is_keyed_vectors(source)


def embedding_matrix(source, vocabulary, embedding_dim, lowercase, random_state):
    """Embedding weights for ``vocabulary`` from pretrained word vectors.

    Parameters
    ----------
    source : str, os.PathLike, Mapping or gensim KeyedVectors
        A word2vec or GloVe text file (gzip allowed: by a ``.gz`` name), a
        mapping of token to vector, or gensim ``KeyedVectors``.
    vocabulary : dict of str to int
        Token to id, ids from ``FIRST_TOKEN_ID`` on.
    embedding_dim : int
        The size the vectors must have.
    lowercase : bool
        Whether the vocabulary was lowercased: then a token missing from the
        vectors is also looked up in its lowercased spellings there, the first
        (in a file ordered by frequency, the most frequent) winning.
    random_state : numpy.random.RandomState
        Draws the vectors of tokens that have none.

    Returns
    -------
    matrix : ndarray of shape (len(vocabulary) + FIRST_TOKEN_ID, embedding_dim)
        Row ``id`` is the vector of that token. Tokens without a vector get
        random normal vectors with the per-dimension mean and standard
        deviation of the ones found (standard normal with fewer than two), so
        they start on the same scale. Padding and unknown rows are 0.
    found : ndarray of bool, shape (len(vocabulary),)
        Whether each token, in id order, had a pretrained vector.
    """
    if _is_keyed_vectors(source):
        pairs = (
            (token, source.vectors[index])
            for token, index in source.key_to_index.items()
        )
        where = "the KeyedVectors"
    elif isinstance(source, Mapping):
        pairs = source.items()
        where = "the embeddings mapping"
    else:
        pairs = _read_vector_file(os.fspath(source), embedding_dim)
        where = f"the file {os.fspath(source)!r}"
    vectors, found = _aligned_vectors(
        pairs, vocabulary, embedding_dim, lowercase, where
    )
    matrix = np.zeros((len(vocabulary) + FIRST_TOKEN_ID, embedding_dim), np.float32)
    rows = matrix[FIRST_TOKEN_ID:]
    rows[found] = vectors[found]
    mean, std = np.zeros(embedding_dim), np.ones(embedding_dim)
    if found.sum() >= 2:
        mean, std = vectors[found].mean(axis=0), vectors[found].std(axis=0)
        std[std == 0] = 1.0
    missing = ~found
    rows[missing] = random_state.normal(
        mean, std, size=(int(missing.sum()), embedding_dim)
    )
    return matrix, found


def _aligned_vectors(pairs, vocabulary, embedding_dim, lowercase, where):
    """Vectors in vocabulary order: exact spellings first, then lowercased."""
    vectors = np.zeros((len(vocabulary), embedding_dim), np.float32)
    exact = np.zeros(len(vocabulary), dtype=bool)
    by_lowercase = np.zeros(len(vocabulary), dtype=bool)
    for token, vector in pairs:
        if not isinstance(token, str):
            raise TypeError(
                f"The tokens of {where} must be str; found {token!r} of type "
                f"{type(token).__name__}."
            )
        token_id = vocabulary.get(token)
        if token_id is not None:
            row = token_id - FIRST_TOKEN_ID
            if exact[row]:
                continue
            exact[row] = True
        elif lowercase:
            token_id = vocabulary.get(token.lower())
            if token_id is None:
                continue
            row = token_id - FIRST_TOKEN_ID
            if exact[row] or by_lowercase[row]:
                continue
            by_lowercase[row] = True
        else:
            continue
        vectors[row] = _checked_vector(vector, token, embedding_dim, where)
    return vectors, exact | by_lowercase


def _checked_vector(vector, token, embedding_dim, where):
    try:
        vector = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"The vector of {token!r} in {where} is not a sequence of numbers"
            f" ({error})."
        ) from None
    if vector.shape != (embedding_dim,):
        raise ValueError(
            f"The vector of {token!r} in {where} has shape {vector.shape}, but "
            f"embedding_dim={embedding_dim}: set embedding_dim to the size of the "
            "pretrained vectors."
        )
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"The vector of {token!r} in {where} holds NaN or infinity.")
    return vector


def _read_vector_file(path, embedding_dim):
    """Yield (token, vector) from a word2vec or GloVe text file.

    The vector is the last ``embedding_dim`` fields of a line, so tokens may
    hold spaces (GloVe 840B has some). A first line of two integers is
    word2vec's header and is skipped. Vectors are only parsed for the tokens
    the caller keeps.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No word-vector file at {path!r}.")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        # utf-8-sig drops a byte-order mark; newline="\n" keeps a stray \r
        # inside a token from splitting its line.
        with opener(path, "rt", encoding="utf-8-sig", newline="\n") as lines:
            first = True
            for line in lines:
                line = line.rstrip("\r\n").rstrip(" ")
                if not line:
                    continue
                fields = line.rsplit(" ", embedding_dim)
                if first and len(fields) == 2 and _is_word2vec_header(*fields):
                    first = False
                    continue
                first = False
                if len(fields) == embedding_dim + 1:
                    token, numbers = fields[0], fields[1:]
                else:  # the wrong size: an error if the token is wanted
                    token, _, rest = line.partition(" ")
                    numbers = rest.split()
                yield token, _LazyVector(numbers)
    except UnicodeDecodeError:
        raise ValueError(
            f"{path!r} is not a UTF-8 text file of word vectors; for word2vec's "
            "binary format, load it with gensim's KeyedVectors.load_word2vec_format"
            "(path, binary=True) and pass the KeyedVectors."
        ) from None
    except (OSError, EOFError) as error:
        message = f"Could not read word vectors from {path!r}: {error}"
        raise ValueError(message) from None


def _is_word2vec_header(token, number):
    return token.isdigit() and number.isdigit()


class _LazyVector:
    """A line's number fields, parsed only when the vector is used."""

    __slots__ = ("numbers",)

    def __init__(self, numbers):
        self.numbers = numbers

    def __array__(self, dtype=None, copy=None):
        if not self.numbers:
            raise ValueError("the line holds no vector")
        try:
            values = [float(number) for number in self.numbers]
        except ValueError:
            raise ValueError(
                f"expected numbers, found {' '.join(self.numbers)[:60]!r}"
            ) from None
        return np.asarray(values, dtype=dtype)


def _is_keyed_vectors(source):
    return hasattr(source, "key_to_index") and hasattr(source, "vectors")
