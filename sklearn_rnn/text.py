"""Turning raw texts into padded matrices of token ids."""

import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Set
from functools import cache, partial
from itertools import chain, repeat
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._inputs import check_texts, iter_text_chunks
from ._param_validation import (
    BOOLEAN,
    InstanceOf,
    Interval,
    InvalidParameterError,
    IsCallable,
    IsNone,
    Options,
    Satisfies,
    validate_params,
)
from ._warnings import warn_user

PAD_ID = 0
UNKNOWN_ID = 1
PAD_TOKEN = "<pad>"
UNKNOWN_TOKEN = "<unk>"
FIRST_TOKEN_ID = 2
PLAIN_TOKEN_PATTERN = r"\w+|[^\w\s]"
FIRST_COMBINING_MARK = "\u0300"
# The plain pattern for ASCII texts, spelt out: \w and \s make the regex
# engine look up Unicode properties, which a plain character class avoids.
ASCII_TOKEN_PATTERN = r"[0-9A-Za-z_]+|[^0-9A-Za-z_\s]"
# A long text is first tokenized in a slice of this many characters per token
# kept; a token and its space average well under 8 characters in English, and
# a slice that holds too few tokens falls back to the whole text.
MAX_CHARS_PER_TOKEN = 8
# fit tokenizes and counts this many texts at a time, so that what it holds
# besides the vocabulary stays the same size however long the corpus is.
FIT_CHUNK_SIZE = 10_000


def _is_token_collection(value):
    """Whether ``value`` can be read, in a fixed order, as often as needed."""
    return isinstance(value, Iterable) and not isinstance(
        value, str | bytes | Set | Iterator
    )


class TextVectorizer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Map texts to right-padded sequences of token ids.

    The vocabulary is learnt in :meth:`fit`: the ``max_features`` most frequent
    tokens that occur in at least ``min_df`` texts. :meth:`transform` then turns
    each text into the ids of its tokens, in order. Id 0 is padding and id 1 the
    unknown token (any token outside the vocabulary); known tokens have ids from
    2 on, the most frequent first. :meth:`fit` reads its texts once, a chunk at
    a time, so they may come from a generator over a file too large to hold in
    memory. A ``vocabulary`` given in advance is used as it is.

    Parameters
    ----------
    max_features : int or None, default=None
        Keep at most this many tokens, the most frequent ones; ties are broken
        alphabetically so the vocabulary is deterministic. None keeps all.
    min_df : int or float, default=1
        Ignore tokens that occur in fewer texts than this: an int is a count of
        texts, a float in (0, 1] a proportion of them.
    max_len : int or None, default=128
        Keep at most this many tokens of a text; None keeps all of them.
    lowercase : bool, default=True
        Lowercase texts before tokenizing.
    token_pattern : str or None, default=None
        Regular expression whose matches are the tokens when ``analyzer="word"``
        and ``tokenizer`` is None. None is the built-in pattern: a token is a
        run of letters, digits, underscores and combining marks, in any script
        (so that Devanagari, vowelled Arabic or decomposed accents stay whole
        words), or a single punctuation mark: ``"Don't!"`` gives
        ``["don", "'", "t", "!"]``.
    tokenizer : callable or None, default=None
        A function from a (lowercased, if ``lowercase``) text to a list (or
        tuple) of string tokens. Overrides ``token_pattern``.
    analyzer : {"word", "char"}, default="word"
        Whether tokens are words (per ``token_pattern`` or ``tokenizer``) or
        single characters, whitespace included.
    truncation : {"post", "pre"}, default="post"
        Which end of a text longer than ``max_len`` is cut: ``"post"`` keeps
        the beginning, ``"pre"`` keeps the end.
    vocabulary : Mapping, iterable of str or None, default=None
        A fixed vocabulary, used instead of learning one: :meth:`fit` then
        learns nothing and ``min_df`` and ``max_features`` are ignored. Either
        distinct str tokens in an ordered collection (a list, tuple or array),
        which get the ids 2, 3, ... in their order, or a mapping of token to
        id, such as another vectorizer's ``vocabulary_``, whose ids must be 2
        to ``n + 1`` for ``n`` tokens. Tokens are looked up as the analyzer
        gives them (lowercased, with ``lowercase``); ``"<pad>"`` and
        ``"<unk>"`` are reserved for ids 0 and 1. None learns the vocabulary
        from the texts.

    Attributes
    ----------
    vocabulary_ : dict
        Token to id, ids from 2 on, in the order of the ids.

    See Also
    --------
    sklearn.feature_extraction.text.CountVectorizer : Bag-of-words counts.

    Notes
    -----
    A text with no token at all (empty, or only whitespace) is represented as a
    single unknown token, so that every row holds at least one real position.

    Examples
    --------
    >>> from sklearn_rnn import TextVectorizer
    >>> vec = TextVectorizer().fit(["a good film", "a bad film"])
    >>> vec.transform(["a good plot"])
    array([[2, 5, 1]])

    A fixed vocabulary, and texts from a generator:

    >>> vec = TextVectorizer(vocabulary=["good", "bad"])
    >>> vec.fit(text for text in ["a good film", "a bad film"]).vocabulary_
    {'good': 2, 'bad': 3}
    >>> vec.transform(["a good plot"])
    array([[1, 2, 1]])
    """

    _parameter_constraints = {
        "max_features": [Interval(Integral, 1, None), IsNone()],
        "min_df": [Interval(Integral, 1, None), Interval(Real, 0, 1, "right")],
        "max_len": [Interval(Integral, 1, None), IsNone()],
        "lowercase": [BOOLEAN],
        "token_pattern": [InstanceOf(str, "a str (a regular expression)"), IsNone()],
        "tokenizer": [IsCallable(), IsNone()],
        "analyzer": [Options("word", "char")],
        "truncation": [Options("post", "pre")],
    }
    # Kept out of _parameter_constraints, whose parameters RNNTextClassifier
    # takes as its own text parameters: a fixed vocabulary is not one of them.
    _vocabulary_constraints = {
        "vocabulary": [
            InstanceOf(Mapping, "a mapping of token to id"),
            Satisfies(
                _is_token_collection,
                "an ordered collection of str tokens (not a set, a str or a "
                "one-shot iterator)",
            ),
            IsNone(),
        ],
    }

    def __init__(
        self,
        *,
        max_features=None,
        min_df=1,
        max_len=128,
        lowercase=True,
        token_pattern=None,
        tokenizer=None,
        analyzer="word",
        truncation="post",
        vocabulary=None,
    ):
        self.max_features = max_features
        self.min_df = min_df
        self.max_len = max_len
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer
        self.analyzer = analyzer
        self.truncation = truncation
        self.vocabulary = vocabulary

    def fit(self, X, y=None):
        """Learn the vocabulary of the texts in ``X``.

        The texts are read once, tokenized and counted ``FIT_CHUNK_SIZE``
        (10,000) at a time: besides the vocabulary's counts, only one chunk's
        tokens are held at once. The vocabulary is the one the same texts
        would give all at once. With a fixed ``vocabulary``, the texts are
        only checked.

        Parameters
        ----------
        X : iterable of str
            Texts: a list, tuple, 1-D array, pandas Series or one-column
            DataFrame, or any other iterable of str, such as a generator that
            reads them from a file, which is not held in memory whole.
        y : None
            Ignored.

        Returns
        -------
        self : TextVectorizer
            The fitted vectorizer.
        """
        self._validate_params()
        fixed_vocabulary = self._fixed_vocabulary()
        if fixed_vocabulary is not None:
            for _ in iter_text_chunks(X, FIT_CHUNK_SIZE):
                pass  # the texts are checked as they are read
            self.vocabulary_ = fixed_vocabulary
            return self
        tally = _TokenTally(count_documents=not self._keeps_every_token(None))
        for texts in iter_text_chunks(X, FIT_CHUNK_SIZE):
            tokenized = self._tokenize_all(texts, first_index=tally.n_texts)
            tally.add(self._truncate(tokenized))
            del texts, tokenized  # not held while the next chunk is read
        self._learn_vocabulary(tally)
        return self

    def fit_transform(self, X, y=None):
        """Learn the vocabulary and return the ids of ``X``; see :meth:`transform`.

        Parameters
        ----------
        X : iterable of str
            Texts; an iterator is read into memory, as the result holds a row
            for each text anyway.
        y : None
            Ignored.

        Returns
        -------
        ids : ndarray of shape (n_texts, max_length), dtype int64
            Token ids, right-padded with 0.
        """
        self._validate_params()
        fixed_vocabulary = self._fixed_vocabulary()
        return self._fit_tokens(self._tokens(X), fixed_vocabulary)

    def transform(self, X):
        """Turn texts into a right-padded matrix of token ids.

        Parameters
        ----------
        X : iterable of str
            Texts; an iterator is read into memory, as the result holds a row
            for each text anyway.

        Returns
        -------
        ids : ndarray of shape (n_texts, max_length), dtype int64
            Row ``i`` holds the ids of the tokens of text ``i``, truncated to
            ``max_len`` tokens and padded with 0 on the right. ``max_length`` is
            the number of tokens in the longest (truncated) text.
        """
        check_is_fitted(self, "vocabulary_")
        return self._to_ids(self._tokens(X))

    def transform_counts(self, X):
        """Count the vocabulary's tokens in the whole of each text.

        Unlike :meth:`transform`, this reads every token, ``max_len`` or not.
        ``RNNTextClassifier`` feeds these counts to its bag of words, so that a
        long document's words all count even where the network reads only its
        first ``max_len`` tokens.

        Parameters
        ----------
        X : iterable of str
            Texts.

        Returns
        -------
        counts : scipy.sparse.csr_matrix of shape (n_texts, n_tokens), dtype int64
            ``counts[i, j]`` is how often the token with id ``j`` occurs in
            text ``i``; column 1 counts the unknown tokens and column 0, the
            padding, is empty. ``n_tokens`` is ``len(vocabulary_) + 2``.

        Examples
        --------
        >>> from sklearn_rnn import TextVectorizer
        >>> vectorizer = TextVectorizer(max_len=2).fit(["a b", "b c"])
        >>> vectorizer.transform(["b b b x"])
        array([[2, 2]])
        >>> vectorizer.transform_counts(["b b b x"]).toarray()
        array([[0, 1, 3, 0, 0]])
        """
        check_is_fitted(self, "vocabulary_")
        return self._counts(self._tokenize_all(check_texts(X), whole=True))

    def inverse_transform(self, X):
        """Turn ids back into tokens, dropping the padding.

        Parameters
        ----------
        X : array-like of shape (n_texts, max_length)
            Token ids, as returned by :meth:`transform`.

        Returns
        -------
        tokens : list of ndarray of str
            The tokens of each row; unknown ids come back as ``"<unk>"``.
        """
        check_is_fitted(self, "vocabulary_")
        ids = np.asarray(X)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                "X must be a 2-D array of integer token ids, got an array of shape "
                f"{ids.shape} and dtype {ids.dtype}."
            )
        names = self.get_feature_names_out()
        if ids.size and (ids.min() < 0 or ids.max() >= len(names)):
            raise ValueError(
                f"X holds ids outside the vocabulary's range [0, {len(names) - 1}]."
            )
        return [names[row[row != PAD_ID]] for row in ids]

    def get_feature_names_out(self, input_features=None):
        """Return the token of each id.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        tokens : ndarray of str
            ``tokens[i]`` is the token with id ``i``: ``"<pad>"`` for 0,
            ``"<unk>"`` for 1, then the vocabulary, most frequent first.
        """
        check_is_fitted(self, "vocabulary_")
        tokens = [PAD_TOKEN, UNKNOWN_TOKEN, *self.vocabulary_]
        return np.asarray(tokens, dtype=object)

    def build_analyzer(self):
        """Return a function that turns one text into its tokens.

        The tokens are the ones :meth:`transform` looks up in the
        vocabulary: lowercased with ``lowercase``, cut by the token pattern,
        the tokenizer or into characters, and at most ``max_len`` of them.
        Use it to prepare texts for other tools the same way, for example to
        train word vectors whose tokens match the vocabulary's. The function
        keeps the parameters this vectorizer has now; it needs no fitting.

        Returns
        -------
        analyzer : callable
            ``analyzer(text)`` returns the tokens of the str ``text`` as a
            list of str.

        Examples
        --------
        >>> from sklearn_rnn import TextVectorizer
        >>> TextVectorizer().build_analyzer()("Don't panic!")
        ['don', "'", 't', 'panic', '!']
        """
        self._validate_params()
        # not clone: its deep copy would refuse tokenizers holding locks
        params = {**self.get_params(deep=False), "vocabulary": None}
        return partial(_analyze, type(self)(**params))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _validate_params(self):
        validate_params(self, self._parameter_constraints)
        validate_params(self, self._vocabulary_constraints)
        if self.analyzer == "word" and self.tokenizer is None:
            compile_token_pattern(self.token_pattern)
        if self.analyzer == "char" and self.tokenizer is not None:
            warn_user(
                "The tokenizer is not used when analyzer='char'.",
            )

    def _tokens(self, X):
        """The tokens of each text in ``X``, truncated to ``max_len``."""
        return self._truncate(self._tokenize_all(check_texts(X)))

    def _ids_and_counts(self, texts, fit):
        """Token ids as :meth:`transform` gives them, and whole-text counts.

        Each text is tokenized once. With ``fit``, the vocabulary is learnt
        first, as :meth:`fit` does.
        """
        if fit:
            self._validate_params()
        fixed_vocabulary = self._fixed_vocabulary() if fit else None
        whole = self._tokenize_all(texts, whole=True)
        if fit:
            ids = self._fit_tokens(self._truncate(whole), fixed_vocabulary)
        lengths, token_ids = self._lookup(whole)
        if not fit:
            # the whole texts' ids, truncated, rather than a second lookup
            ids = self._truncated_ids(lengths, token_ids)
        return ids, self._count_matrix(lengths, token_ids)

    def _truncated_ids(self, lengths, token_ids):
        """Padded ids of the tokens ``max_len`` keeps, from whole texts' ids."""
        if self.max_len is None:
            return _pad(lengths, token_ids)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        position = np.arange(len(token_ids)) - starts
        if self.truncation == "post":
            kept = position < self.max_len
        else:
            kept = position >= np.repeat(lengths, lengths) - self.max_len
        return _pad(np.minimum(lengths, self.max_len), token_ids[kept])

    def _counts(self, tokenized):
        return self._count_matrix(*self._lookup(tokenized))

    def _count_matrix(self, lengths, token_ids):
        rows = np.repeat(np.arange(len(lengths)), lengths)
        counts = scipy.sparse.csr_matrix(
            (np.ones(len(token_ids), dtype=np.int64), (rows, token_ids)),
            shape=(len(lengths), len(self.vocabulary_) + FIRST_TOKEN_ID),
        )
        counts.sum_duplicates()
        return counts

    def _truncate(self, tokenized):
        """Keep at most ``max_len`` tokens of each text, from the chosen end.

        The vocabulary is counted after truncation: a token seen only past
        ``max_len`` would never be trained.
        """
        if self.max_len is None:
            return tokenized
        if self.truncation == "post":
            return [tokens[: self.max_len] for tokens in tokenized]
        return [tokens[-self.max_len :] for tokens in tokenized]

    def _tokenize_all(self, texts, whole=False, first_index=0):
        """Return the list of tokens of each text.

        Where the tokens are known to be local (characters, or the built-in
        pattern), only the part of a long text that ``max_len`` keeps is read,
        unless ``whole``. ``first_index`` is the position of ``texts[0]`` in
        the caller's input, for the tokenizer's error messages.
        """
        truncating = self.max_len is not None and not whole
        if self.lowercase:
            texts = [text.lower() for text in texts]
        if self.analyzer == "char":
            if truncating:
                texts = map(self._kept_end, texts, repeat(self.max_len))
            return list(map(list, texts))
        if self.tokenizer is not None:
            return [
                self._call_tokenizer(index, text)
                for index, text in enumerate(texts, start=first_index)
            ]
        if self.token_pattern is not None:
            findall = compile_token_pattern(self.token_pattern).findall
            return [findall(text) for text in texts]
        if not truncating:
            return list(map(_builtin_tokens, texts))
        return [self._builtin_tokens_kept(text) for text in texts]

    def _kept_end(self, text, size):
        return text[:size] if self.truncation == "post" else text[-size:]

    def _builtin_tokens_kept(self, text):
        """The built-in pattern's tokens of ``text``, at least the ones kept.

        Its tokens are runs of word characters or single other characters, so a
        slice of the text has the text's own tokens except the one cut at the
        slice's edge; with more than ``max_len`` of them, that one is not kept.
        """
        size = MAX_CHARS_PER_TOKEN * self.max_len
        if len(text) > size:
            tokens = _builtin_tokens(self._kept_end(text, size))
            if len(tokens) > self.max_len:
                return self._kept_end(tokens, self.max_len)
        return _builtin_tokens(text)

    def _call_tokenizer(self, index, text):
        tokens = self.tokenizer(text)
        if not isinstance(tokens, list | tuple) or not all(
            isinstance(token, str) for token in tokens
        ):
            raise TypeError(
                f"tokenizer must return a list of str; for text {index} it returned "
                f"{tokens!r:.200}."
            )
        return tokens

    def _fit_tokens(self, tokenized, fixed_vocabulary=None):
        """Learn ``vocabulary_``; return the ids of ``tokenized`` under it.

        With a ``fixed_vocabulary`` (see :meth:`_fixed_vocabulary`), that is
        the vocabulary and nothing is learnt.
        """
        if fixed_vocabulary is not None:
            self.vocabulary_ = fixed_vocabulary
            return self._to_ids(tokenized)
        tally = _TokenTally(count_documents=not self._keeps_every_token(len(tokenized)))
        lengths, provisional_ids = tally.add(tokenized)
        final_ids = self._learn_vocabulary(tally)
        return _pad(lengths, final_ids[provisional_ids])

    def _learn_vocabulary(self, tally):
        """Set ``vocabulary_`` from a :class:`_TokenTally` of all the texts.

        Return the final id of each provisional id, 1 (unknown) for the tokens
        left out, so that ids are mapped with one array lookup rather than a
        second pass of dictionary lookups.
        """
        tokens = list(tally.provisional)
        keep = self._frequent_enough(tally)
        # Most frequent first, ties alphabetical: sort by token, then stably by
        # count.
        alphabetical = np.array(
            sorted(np.flatnonzero(keep).tolist(), key=tokens.__getitem__),
            dtype=np.int64,
        )
        ranked = alphabetical[
            np.argsort(-tally.counts[alphabetical], kind="stable")[: self.max_features]
        ]
        if not len(ranked):
            raise ValueError(
                "The vocabulary is empty: no token occurs in at least "
                f"min_df={self.min_df} texts. The texts may hold no tokens at "
                "all, or min_df may be too high."
            )
        self.vocabulary_ = {
            tokens[index]: token_id
            for token_id, index in enumerate(ranked.tolist(), start=FIRST_TOKEN_ID)
        }
        final_ids = np.full(len(tokens), UNKNOWN_ID, dtype=np.int64)
        final_ids[ranked] = np.arange(FIRST_TOKEN_ID, FIRST_TOKEN_ID + len(ranked))
        return final_ids

    def _keeps_every_token(self, n_texts):
        """Whether ``min_df`` keeps every token of ``n_texts`` texts.

        ``n_texts`` is None when it is not known yet, as while reading an
        iterator: a float ``min_df`` may then drop tokens.
        """
        if isinstance(self.min_df, Integral):
            return self.min_df <= 1
        return n_texts is not None and float(self.min_df) <= 1 / n_texts

    def _frequent_enough(self, tally):
        """Mask of the provisional ids that occur in at least ``min_df`` texts."""
        n_texts = tally.n_texts
        if self._keeps_every_token(n_texts):
            return np.ones(len(tally.provisional), dtype=bool)
        if isinstance(self.min_df, Integral):
            min_share = self.min_df / n_texts
        else:
            min_share = float(self.min_df)
        # Compare shares, not counts: ceil(0.07 * 100) is 8 in floating point.
        return tally.document_counts / n_texts >= min_share

    def _fixed_vocabulary(self):
        """The ``vocabulary`` parameter as a new token-to-id dict, or None.

        The dict is in the order of the ids, as :meth:`get_feature_names_out`
        needs. Raises ``InvalidParameterError`` naming what is wrong with it.
        """
        if self.vocabulary is None:
            return None
        if isinstance(self.vocabulary, Mapping):
            tokens = list(self.vocabulary.keys())
            ids = list(self.vocabulary.values())
        else:
            tokens = list(self.vocabulary)
            ids = range(FIRST_TOKEN_ID, FIRST_TOKEN_ID + len(tokens))
        _check_vocabulary_tokens(tokens)
        _check_vocabulary_ids(tokens, ids)
        in_id_order = sorted(range(len(tokens)), key=ids.__getitem__)
        # str() makes numpy's str_ tokens plain str
        return {str(tokens[index]): int(ids[index]) for index in in_id_order}

    def _to_ids(self, tokenized):
        return _pad(*self._lookup(tokenized))

    def _lookup(self, tokenized):
        """The texts' lengths and their concatenated token ids."""
        lengths = _lengths(tokenized)
        # dict.get with a default, mapped in C; no per-call copy of the vocabulary
        token_ids = np.fromiter(
            map(
                self.vocabulary_.get, chain.from_iterable(tokenized), repeat(UNKNOWN_ID)
            ),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        return lengths, token_ids


class _TokenTally:
    """Counts of tokens, and of the texts they occur in, added chunk by chunk.

    Each distinct token gets a provisional id in order of first appearance, so
    that counting runs in numpy. ``document_counts`` is None unless asked for.
    """

    def __init__(self, count_documents):
        self.provisional = defaultdict()
        self.provisional.default_factory = self.provisional.__len__
        self.n_texts = 0
        self.counts = np.zeros(0, dtype=np.int64)
        self.document_counts = np.zeros(0, dtype=np.int64) if count_documents else None

    def add(self, tokenized):
        """Count the tokens of some texts; return their lengths and provisional ids."""
        lengths = _lengths(tokenized)
        provisional_ids = np.fromiter(
            map(self.provisional.__getitem__, chain.from_iterable(tokenized)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        n_tokens = len(self.provisional)
        self.counts = _add_counts(
            self.counts, np.bincount(provisional_ids, minlength=n_tokens)
        )
        if self.document_counts is not None:
            text_index = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
            # Sorted, a (text, token) pair's repeats are adjacent. np.unique
            # would give the same, but numpy 2's hashing makes it ~50x slower.
            pairs = np.sort(text_index * n_tokens + provisional_ids)
            first_of_pair = np.ones(len(pairs), dtype=bool)
            first_of_pair[1:] = pairs[1:] != pairs[:-1]
            distinct_in_text = pairs[first_of_pair] % n_tokens
            self.document_counts = _add_counts(
                self.document_counts, np.bincount(distinct_in_text, minlength=n_tokens)
            )
        self.n_texts += len(lengths)
        return lengths, provisional_ids


def _add_counts(total, counts):
    """Add ``total`` into ``counts``, which may count more tokens; return it."""
    counts[: len(total)] += total
    return counts


_VOCABULARY_PARAMETER = "The 'vocabulary' parameter of TextVectorizer"


def _check_vocabulary_tokens(tokens):
    if not tokens:
        raise InvalidParameterError(
            f"{_VOCABULARY_PARAMETER} is empty; give at least one token, or None "
            "to learn the vocabulary in fit."
        )
    seen = set()
    for token in tokens:
        if not isinstance(token, str):
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} holds {token!r:.100}, of type "
                f"{type(token).__name__}; tokens must be str."
            )
        if token in (PAD_TOKEN, UNKNOWN_TOKEN):
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} holds {token!r}, which is reserved: "
                f"{PAD_TOKEN!r} has id {PAD_ID} and {UNKNOWN_TOKEN!r} id "
                f"{UNKNOWN_ID}, whatever the vocabulary."
            )
        if token in seen:
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} holds {token!r} more than once; tokens "
                "must be distinct."
            )
        seen.add(token)


def _check_vocabulary_ids(tokens, ids):
    """Check that ``ids`` are the ints from 2 to ``len(tokens) + 1``, each once."""
    last_id = FIRST_TOKEN_ID + len(tokens) - 1
    token_of_id = {}
    for token, token_id in zip(tokens, ids, strict=True):
        if isinstance(token_id, bool | np.bool_) or not isinstance(token_id, Integral):
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} maps {token!r} to {token_id!r:.100}; ids "
                "must be int."
            )
        if not FIRST_TOKEN_ID <= token_id <= last_id:
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} maps {token!r} to {token_id}; the ids of "
                f"{len(tokens)} tokens must be {FIRST_TOKEN_ID} to {last_id} "
                f"({PAD_ID} is padding and {UNKNOWN_ID} the unknown token)."
            )
        if token_id in token_of_id:
            raise InvalidParameterError(
                f"{_VOCABULARY_PARAMETER} gives id {token_id} to both "
                f"{token_of_id[token_id]!r} and {token!r}; ids must be distinct."
            )
        token_of_id[token_id] = token


def _analyze(vectorizer, text):
    if not isinstance(text, str):
        raise TypeError(f"The analyzer takes one str, got {text!r:.100}.")
    return list(vectorizer._tokens([text])[0])  # noqa: SLF001 (this module's class)


def _lengths(tokenized):
    return np.fromiter(map(len, tokenized), dtype=np.int64, count=len(tokenized))


def _pad(lengths, token_ids):
    """Lay the concatenated ``token_ids`` out as right-padded rows.

    A text without tokens becomes a single unknown token, so that every row
    has at least one position the network reads.
    """
    lengths = lengths.copy()
    empty = lengths == 0
    lengths[empty] = 1
    ids = np.zeros((len(lengths), int(lengths.max())), dtype=np.int64)
    ids[empty, 0] = UNKNOWN_ID
    filled = np.arange(ids.shape[1]) < lengths[:, None]
    filled[empty, 0] = False
    ids[filled] = token_ids
    return ids


def _builtin_tokens(text):
    """Tokens of the built-in pattern, by the fastest pattern that gives them.

    Below U+0300 there is no combining mark, and there the plain pattern, about
    3x faster than the one that knows them, gives the same tokens.
    """
    if text.isascii():
        return compile_token_pattern(ASCII_TOKEN_PATTERN).findall(text)
    if max(text) < FIRST_COMBINING_MARK:
        return compile_token_pattern(PLAIN_TOKEN_PATTERN).findall(text)
    return compile_token_pattern(None).findall(text)


@cache
def _combining_marks():
    """A regex character-class body of every Unicode combining mark.

    Python's ``\\w`` leaves out combining marks (categories Mn, Mc, Me), which
    would cut words of many scripts into pieces.
    """
    ranges = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(
        re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))
        for first, last in ranges
    )


@cache
def compile_token_pattern(pattern):
    """Compile ``token_pattern`` (None for the built-in one), or explain why not."""
    if pattern is None:
        return re.compile(rf"[\w{_combining_marks()}]+|[^\w\s]")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise InvalidParameterError(
            f"The 'token_pattern' parameter of TextVectorizer is not a valid "
            f"regular expression: {error}."
        ) from None
    if compiled.groups > 1:
        raise InvalidParameterError(
            f"token_pattern {pattern!r} has {compiled.groups} capturing groups; "
            "at most one is allowed (use (?:...) for grouping)."
        )
    if compiled.fullmatch(""):
        raise InvalidParameterError(
            f"token_pattern {pattern!r} matches the empty string, which would make "
            "empty tokens; use + rather than * for repetition."
        )
    return compiled


# What the classifiers need of a vectorizer, declared here so that they read
# no private name of it (this module reads its own class's).

# The parameters that decide how texts become ids; RNNTextClassifier takes
# them as its own.
TEXT_PARAMETERS = tuple(TextVectorizer._parameter_constraints)  # noqa: SLF001
VOCABULARY_CONSTRAINTS = TextVectorizer._vocabulary_constraints[  # noqa: SLF001
    "vocabulary"
]


def encode(vectorizer, texts, fit=False, counts=True):
    """The truncated ids of ``texts``, with their whole-text token counts.

    Each text is tokenized once for both. With ``fit``, ``vectorizer`` first
    learns its vocabulary from them. Without ``counts``, the counts are None.
    """
    if not counts:
        ids = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
        return ids, None
    return vectorizer._ids_and_counts(texts, fit=fit)  # noqa: SLF001


def tokens_and_ids(vectorizer, X):
    """The tokens a fitted vectorizer reads in each text, and their ids."""
    tokenized = vectorizer._tokens(X)  # noqa: SLF001
    return tokenized, vectorizer._to_ids(tokenized)  # noqa: SLF001


def vocabulary_tokens(vocabulary):
    """The tokens of a ``vocabulary`` parameter, in the order of their ids.

    It may be tokens, a mapping of token to id, or a fitted TextVectorizer;
    None, or an unfitted vectorizer, gives None.
    """
    if isinstance(vocabulary, TextVectorizer):
        vocabulary = getattr(vocabulary, "vocabulary_", None)
    if vocabulary is None:
        return None
    return list(TextVectorizer(vocabulary=vocabulary)._fixed_vocabulary())  # noqa: SLF001
