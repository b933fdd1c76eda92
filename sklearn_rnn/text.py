"""Turning raw texts into padded matrices of token ids."""

import re
import sys
import unicodedata
import warnings
from collections import defaultdict
from functools import cache, partial
from itertools import chain, repeat
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    BOOLEAN,
    InstanceOf,
    Interval,
    InvalidParameterError,
    IsCallable,
    IsNone,
    Options,
    check_texts,
    validate_params,
)

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


class TextVectorizer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Map texts to right-padded sequences of token ids.

    The vocabulary is learnt in :meth:`fit`: the ``max_features`` most frequent
    tokens that occur in at least ``min_df`` texts. :meth:`transform` then turns
    each text into the ids of its tokens, in order. Id 0 is padding and id 1 the
    unknown token (any token outside the vocabulary); known tokens have ids from
    2 on, the most frequent first.

    Parameters
    ----------
    max_features : int or None, default=None
        Keep at most this many tokens, the most frequent ones; ties are broken
        alphabetically so the vocabulary is deterministic. None keeps all.
    min_df : int or float, default=1
        Ignore tokens that occur in fewer texts than this: an int is a count of
        texts, a float in (0, 1] a proportion of them.
    max_len : int or None, default=256
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

    Attributes
    ----------
    vocabulary_ : dict
        Token to id, ids from 2 on.

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

    def __init__(
        self,
        *,
        max_features=None,
        min_df=1,
        max_len=256,
        lowercase=True,
        token_pattern=None,
        tokenizer=None,
        analyzer="word",
        truncation="post",
    ):
        self.max_features = max_features
        self.min_df = min_df
        self.max_len = max_len
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.tokenizer = tokenizer
        self.analyzer = analyzer
        self.truncation = truncation

    def fit(self, X, y=None):
        """Learn the vocabulary of the texts in ``X``.

        Parameters
        ----------
        X : sequence of str
            Texts: a list, tuple, 1-D array, pandas Series or one-column
            DataFrame.
        y : None
            Ignored.

        Returns
        -------
        self : TextVectorizer
            The fitted vectorizer.
        """
        self._validate_params()
        self._fit_tokens(self._tokens(X))
        return self

    def fit_transform(self, X, y=None):
        """Learn the vocabulary and return the ids of ``X``; see :meth:`transform`.

        Parameters
        ----------
        X : sequence of str
            Texts.
        y : None
            Ignored.

        Returns
        -------
        ids : ndarray of shape (n_texts, max_length), dtype int64
            Token ids, right-padded with 0.
        """
        self._validate_params()
        return self._fit_tokens(self._tokens(X))

    def transform(self, X):
        """Turn texts into a right-padded matrix of token ids.

        Parameters
        ----------
        X : sequence of str
            Texts.

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
        X : sequence of str
            Texts.

        Returns
        -------
        counts : scipy.sparse.csr_matrix of shape (n_texts, n_ids), dtype int64
            ``counts[i, j]`` is how often the token with id ``j`` occurs in
            text ``i``; column 1 counts the unknown tokens and column 0, the
            padding, is empty. ``n_ids`` is ``len(vocabulary_) + 2``.

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
        return partial(_analyze, type(self)(**self.get_params(deep=False)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _validate_params(self):
        validate_params(self, self._parameter_constraints)
        if self.analyzer == "word" and self.tokenizer is None:
            compile_token_pattern(self.token_pattern)
        if self.analyzer == "char" and self.tokenizer is not None:
            warnings.warn(
                "The tokenizer is not used when analyzer='char'.",
                UserWarning,
                stacklevel=3,
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
        whole = self._tokenize_all(texts, whole=True)
        truncated = self._truncate(whole)
        ids = self._fit_tokens(truncated) if fit else self._to_ids(truncated)
        return ids, self._counts(whole)

    def _counts(self, tokenized):
        lengths = _lengths(tokenized)
        token_ids = np.fromiter(
            map(
                self.vocabulary_.get, chain.from_iterable(tokenized), repeat(UNKNOWN_ID)
            ),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
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

    def _tokenize_all(self, texts, whole=False):
        """Return the list of tokens of each text.

        Where the tokens are known to be local (characters, or the built-in
        pattern), only the part of a long text that ``max_len`` keeps is read,
        unless ``whole``.
        """
        truncating = self.max_len is not None and not whole
        if self.lowercase:
            texts = [text.lower() for text in texts]
        if self.analyzer == "char":
            if truncating:
                texts = map(self._kept_end, texts, repeat(self.max_len))
            return list(map(list, texts))
        if self.tokenizer is not None:
            return [self._call_tokenizer(i, text) for i, text in enumerate(texts)]
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

    def _fit_tokens(self, tokenized):
        """Learn ``vocabulary_``; return the ids of ``tokenized`` under it.

        Each distinct token first gets a provisional id in order of first
        appearance, so counting and ranking run in numpy and the final ids come
        from one array lookup, not a second pass of dictionary lookups.
        """
        provisional = defaultdict()
        provisional.default_factory = provisional.__len__
        lengths = _lengths(tokenized)
        provisional_ids = np.fromiter(
            map(provisional.__getitem__, chain.from_iterable(tokenized)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        tokens = list(provisional)
        keep = self._frequent_enough(provisional_ids, lengths, len(tokens))
        counts = np.bincount(provisional_ids, minlength=len(tokens))
        # Most frequent first, ties alphabetical: sort by token, then stably by
        # count.
        alphabetical = np.array(
            sorted(np.flatnonzero(keep).tolist(), key=tokens.__getitem__),
            dtype=np.int64,
        )
        ranked = alphabetical[
            np.argsort(-counts[alphabetical], kind="stable")[: self.max_features]
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
        return _pad(lengths, final_ids[provisional_ids])

    def _frequent_enough(self, token_ids, lengths, n_tokens):
        """Mask of the token ids that occur in at least ``min_df`` texts."""
        n_texts = len(lengths)
        if isinstance(self.min_df, Integral):
            min_share = self.min_df / n_texts
        else:
            min_share = float(self.min_df)
        # Compare shares, not counts: ceil(0.07 * 100) is 8 in floating point.
        if min_share <= 1 / n_texts:
            return np.ones(n_tokens, dtype=bool)
        text_index = np.repeat(np.arange(n_texts, dtype=np.int64), lengths)
        distinct_in_text = np.unique(text_index * n_tokens + token_ids) % n_tokens
        document_counts = np.bincount(distinct_in_text, minlength=n_tokens)
        return document_counts / n_texts >= min_share

    def _to_ids(self, tokenized):
        lengths = _lengths(tokenized)
        # dict.get with a default, mapped in C; no per-call copy of the vocabulary
        token_ids = np.fromiter(
            map(
                self.vocabulary_.get, chain.from_iterable(tokenized), repeat(UNKNOWN_ID)
            ),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        return _pad(lengths, token_ids)


def _analyze(vectorizer, text):
    if not isinstance(text, str):
        raise TypeError(f"The analyzer takes one str, got {text!r:.100}.")
    return list(vectorizer._tokens([text])[0])


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
