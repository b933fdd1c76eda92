"""
Pretrained word vectors when labels are few
===========================================

Labelling texts costs time; unlabelled texts are often plentiful. Word
vectors learnt from unlabelled text carry what the labels cannot: which words
are used alike. This example learns word2vec vectors from the SMS messages
without their labels, then trains :class:`~sklearn_rnn.RNNTextClassifier` on
only 300 labelled messages, starting its embeddings from those vectors
(``embeddings``), and compares it with embeddings started at random.

The example needs gensim (``pip install sklearn-rnn[gensim]``) to learn the
vectors; the classifier itself reads word-vector files without it.
"""

import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from sklearn_rnn import RNNTextClassifier, TextVectorizer
from sklearn_rnn.datasets import load_sms_spam

try:
    from gensim.models import Word2Vec
except ImportError as error:
    raise ImportError(
        "This example learns word vectors with gensim, which is not installed: "
        "pip install 'sklearn-rnn[gensim]' (or pip install gensim)."
    ) from error

X_train, y_train = load_sms_spam(subset="train", return_X_y=True)
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)

# %%
# Word vectors from unlabelled text
# ---------------------------------
#
# The situation: many texts, few labels. Here the unlabelled texts are all
# 5,574 messages of the collection, training and test, without their labels.
# Using the test messages' *texts* is fair when the texts to classify are at
# hand before they are classified, as in a spam filter's inbox; it never
# shows a test label. (A check at the end learns the vectors from the
# training messages alone.)
#
# The vectors must be looked up by the tokens the classifier makes, so the
# messages are tokenized by :meth:`TextVectorizer.build_analyzer
# <sklearn_rnn.TextVectorizer.build_analyzer>` with the classifier's text
# settings (lowercase, the built-in token pattern), and no ``max_len``, so
# that word2vec sees every word.


def tokenize(texts):
    """Each text's tokens, as RNNTextClassifier's default settings make them."""
    analyze = TextVectorizer(max_len=None).build_analyzer()
    return [analyze(text) for text in texts]


def learn_word_vectors(texts, path):
    """Train word2vec (skip-gram) on the texts and save it in word2vec format."""
    model = Word2Vec(
        tokenize(texts),
        vector_size=50,
        window=5,
        min_count=2,
        sg=1,
        epochs=20,
        seed=0,
        workers=1,  # one thread makes the vectors reproducible
    )
    model.wv.save_word2vec_format(path)
    return model.wv


folder = tempfile.TemporaryDirectory()
vectors_path = os.path.join(folder.name, "sms_word2vec.txt.gz")
all_texts = np.concatenate([X_train, X_test])
start = time.perf_counter()
word_vectors = learn_word_vectors(all_texts, vectors_path)
print(
    f"{len(word_vectors)} word vectors of size {word_vectors.vector_size}, "
    f"learnt in {time.perf_counter() - start:.0f} s; "
    f"file of {os.path.getsize(vectors_path) / 1e6:.1f} MB"
)

# %%
# The vectors have learnt something of how words are used: the nearest
# neighbours of "prize" are words of prize-draw spam. They are rough, though,
# as 5,574 short messages are a small corpus, and the neighbours of a word of
# everyday chat such as "love" are a mixed bag.
for word in ["prize", "love"]:
    neighbours = [w for w, _ in word_vectors.most_similar(word, topn=6)]
    print(f"{word:6s} -> {', '.join(neighbours)}")

# %%
# The file is in word2vec's text format: a first line with the number of
# words and the size, then one word per line followed by its numbers. A
# name ending in ``.gz`` is read as gzip.
#
# Few labels
# ----------
#
# The labelled data: 300 training messages, drawn at random but keeping the
# share of spam (about 40 spam messages). Below 1000 training texts early
# stopping is off by default, so every fit trains its 20 epochs. The test set
# is the full one (1,114 messages).
#
# Three ways to start the embeddings:
#
# - at random (``embeddings=None``, the default);
# - from the word2vec vectors, then trained along with the rest of the
#   network (``embeddings=vectors_path``); ``embedding_dim`` must be the
#   vectors' size, 50;
# - from the vectors, kept fixed (``freeze_embeddings=True``).
#
# With 300 messages a single draw of the labelled subset is a noisy
# experiment, so each way is fitted on five different draws, and the table
# gives the mean and the standard deviation over them.
variants = {
    "random": {},
    "word2vec": {"embeddings": vectors_path},
    "word2vec, frozen": {"embeddings": vectors_path, "freeze_embeddings": True},
}


def evaluate(variants, n_labelled=300, n_draws=5):
    rows = []
    for draw in range(n_draws):
        X_small, _, y_small, _ = train_test_split(
            X_train, y_train, train_size=n_labelled, stratify=y_train, random_state=draw
        )
        for name, params in variants.items():
            clf = RNNTextClassifier(
                embedding_dim=50,
                hidden_size=32,
                lr=3e-3,
                max_epochs=20,
                random_state=0,
                **params,
            )
            clf.fit(X_small, y_small)
            predicted = clf.predict(X_test)
            rows.append(
                {
                    "embeddings": name,
                    "accuracy": accuracy_score(y_test, predicted),
                    "spam F1": f1_score(y_test, predicted, pos_label="spam"),
                    "coverage": clf.pretrained_coverage_,
                }
            )
    return pd.DataFrame(rows).groupby("embeddings", sort=False).agg(["mean", "std"])


start = time.perf_counter()
results = evaluate(variants)
print(f"15 fits in {time.perf_counter() - start:.0f} s")
print(results.to_string(float_format="{:.3f}".format))

# %%
# ``pretrained_coverage_`` is the share of the fitted vocabulary that had a
# vector in the file. It is not 1 because word2vec's ``min_count=2`` left out
# the words seen once in all the messages; those start at random (with the
# mean and spread of the vectors found).
#
# In the chart, the bars are the means over the five draws and the error
# bars their standard deviations.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for ax, metric in zip(axes, ["accuracy", "spam F1"], strict=True):
    ax.bar(
        results.index,
        results[(metric, "mean")],
        yerr=results[(metric, "std")],
        capsize=4,
        color=["C7", "C0", "C2"],
    )
    ax.set_title(f"test {metric}, 300 labelled messages")
    ax.set_ylim(0.6 if metric == "spam F1" else 0.9, 1)
plt.show()

# %%
# What the figures say
# --------------------
#
# With 300 labels, starting from the word2vec vectors helps a lot. The
# randomly started network catches far fewer spam messages: it only knows the
# words of its 300 messages, and a spam message in the test set that uses
# other words ("reward" rather than "prize") looks new to it. The vectors,
# learnt from every message, place such words near the ones it was trained
# on. Fine-tuning the vectors or keeping them fixed gives about the same
# figures here; the differences between the two are within their spread over
# the draws. Keeping them fixed is the safer default on few labels: training
# moves only the vectors of words in the labelled messages, and the other
# words' vectors are then no longer in step with them.
#
# With all 4,460 labels the gap closes: the labels themselves then show the
# network most of the words that matter (see the other examples, around 98%
# accuracy with random embeddings).
#
# Is it the test messages?
# ------------------------
#
# The vectors above were learnt with the test messages among the texts. To
# see how much that matters, learn them again from the training messages
# alone, and refit:
train_only_path = os.path.join(folder.name, "sms_word2vec_train_only.txt.gz")
learn_word_vectors(X_train, train_only_path)
train_only = evaluate(
    {
        "word2vec (train texts)": {"embeddings": train_only_path},
        "word2vec (train texts), frozen": {
            "embeddings": train_only_path,
            "freeze_embeddings": True,
        },
    }
)
print(train_only.to_string(float_format="{:.3f}".format))

# %%
# The figures stay close to those above: the gain comes from the unlabelled
# messages in general, not from having seen the test messages' words.
folder.cleanup()

# %%
# Real pretrained vectors
# -----------------------
#
# With internet access you would rather start from vectors learnt on a large
# corpus. ``embeddings`` takes
#
# - the path of a word2vec or GloVe **text** file, gzipped or not, such as
#   ``RNNTextClassifier(embeddings="glove.6B.100d.txt", embedding_dim=100)``
#   (GloVe files have no first line with the counts; both forms are read).
#   The file is read once per fit, and only the vectors of the fitted
#   vocabulary are kept, so a large file costs time but little memory;
# - gensim ``KeyedVectors``, which also read word2vec's binary format, for
#   instance ``KeyedVectors.load_word2vec_format("vectors.bin", binary=True)``
#   or ``gensim.downloader.load("glove-wiki-gigaword-100")``;
# - a dict of token to vector.
#
# Prefer a path inside a grid search: the estimator keeps its parameters, and
# :func:`~sklearn.base.clone` copies a dict or ``KeyedVectors`` for every
# candidate and fold, while a path is a short string. Whatever the source,
# the vectors' tokens must be spelt as the vectorizer spells them (lowercase
# by default); ``pretrained_coverage_`` tells you how many were found, and
# ``fit`` warns when none were.
