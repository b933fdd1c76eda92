"""
Training on a file too large for memory
=======================================

When a data set does not fit in memory, :class:`~sklearn_rnn.RNNTextClassifier`
can learn it chunk by chunk:

1. a :class:`~sklearn_rnn.TextVectorizer` reads every text once, from a
   generator, and learns the vocabulary without holding the corpus;
2. :meth:`~sklearn_rnn.RNNTextClassifier.partial_fit` trains one epoch on
   each chunk as it is read, for as many passes over the file as you like.

Here the bundled SMS Spam training set plays the large file: it is written to
a gzip CSV file and read back with pandas, 500 rows at a time. The result is
compared with :meth:`~sklearn_rnn.RNNTextClassifier.fit` on the whole data in
memory. ``benchmarks/bench_streaming.py`` measures the memory on a file of
200,000 texts.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_rnn import RNNTextClassifier, TextVectorizer
from sklearn_rnn.datasets import load_sms_spam

train = load_sms_spam(subset="train", as_frame=True).frame
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)

folder = tempfile.TemporaryDirectory()
path = os.path.join(folder.name, "sms_train.csv.gz")
train.to_csv(path, index=False)

CHUNK_SIZE = 500


def read_chunks():
    """The file's rows, 500 at a time; only one chunk is in memory."""
    return pd.read_csv(path, chunksize=CHUNK_SIZE, keep_default_na=False)


# %%
# The vocabulary, from one pass over the file
# -------------------------------------------
#
# :meth:`~sklearn_rnn.TextVectorizer.fit` takes any iterable of texts,
# a generator included, and counts the tokens chunk by chunk.
def texts():
    for chunk in read_chunks():
        yield from chunk["text"]


vectorizer = TextVectorizer(min_df=2).fit(texts())
print(f"{len(vectorizer.vocabulary_):,} tokens in at least 2 messages")

# %%
# Training, chunk by chunk
# ------------------------
#
# The fitted vectorizer is passed as ``vocabulary``; without it, the first
# chunk's tokens would make the vocabulary. ``classes`` names every label
# in the first call, as a chunk may lack one. Each call trains one epoch on
# its chunk; early stopping and the learning-rate schedule, which judge whole
# epochs, are not used. The file is in random order: a file sorted by label
# must be shuffled once beforehand, or each chunk would teach one class only.
network = {"embedding_dim": 32, "hidden_size": 32, "lr": 1e-2, "random_state": 0}
streamed = RNNTextClassifier(vocabulary=vectorizer, **network)
PASSES = 5
accuracy = []
for _ in range(PASSES):
    for chunk in read_chunks():
        streamed.partial_fit(chunk["text"], chunk["label"], classes=["ham", "spam"])
    accuracy.append(streamed.score(X_test, y_test))
    print(f"after pass {len(accuracy)}: test accuracy {accuracy[-1]:.4f}")

# %%
# The same network fitted in memory
# ---------------------------------
#
# For comparison, ``fit`` on the whole training set for the same number of
# epochs, with the same fixed learning rate and no early stopping.
in_memory = RNNTextClassifier(
    vocabulary=vectorizer,
    max_epochs=PASSES,
    early_stopping=False,
    lr_schedule="constant",
    **network,
).fit(train["text"], train["label"])
print(f"fit in memory: test accuracy {in_memory.score(X_test, y_test):.4f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, PASSES + 1), accuracy, marker="o", label="partial_fit, by chunks")
ax.axhline(
    in_memory.score(X_test, y_test), color="gray", ls="--", label="fit, in memory"
)
ax.set_xlabel("passes over the file")
ax.set_ylabel("test accuracy")
ax.legend()
fig.tight_layout()
plt.show()
