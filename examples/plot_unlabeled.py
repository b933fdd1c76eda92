"""
Few labels, many texts: pretraining on unlabeled messages
=========================================================

Label a few messages of the SMS Spam Collection, leave the others
unlabeled, and compare a classifier trained on the labelled messages alone
with one that first learns to read all of them as a language model
(``pretrain="lm"``). Unlabeled messages are passed to ``fit`` with ``None``
as their label. The plot shows spam F1 on the test messages against the
number of labels.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn.datasets import load_sms_spam

X_train, y_train = load_sms_spam(subset="train", return_X_y=True)
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)

# %%
# Labelled and unlabeled messages
# -------------------------------
#
# For each number of labels, the first messages of a shuffled training set
# keep their label and the rest get ``None``. The model without pretraining
# is fitted on the labelled messages alone; the one with pretraining on all
# of them, labelled or not: its language model reads every message, and
# only the labelled ones enter the classification loss. Both have the same
# small network. With so few labels one draw says little, so each point is
# the mean over three draws of the labelled messages (and of the initial
# weights, ``random_state``).
settings = {"embedding_dim": 32, "hidden_size": 32, "lr": 1e-2}

rows = []
for seed in range(3):
    order = np.random.RandomState(seed).permutation(len(X_train))
    texts = [X_train[i] for i in order]
    labels = [y_train[i] for i in order]
    for n_labels in [50, 100, 200, 500]:
        for pretrain in [None, "lm"]:
            clf = RNNTextClassifier(
                pretrain=pretrain, pretrain_epochs=2, random_state=seed, **settings
            )
            if pretrain is None:
                X, y = texts[:n_labels], labels[:n_labels]
            else:
                X = texts
                y = labels[:n_labels] + [None] * (len(texts) - n_labels)
            start = time.perf_counter()
            clf.fit(X, y)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "labels": n_labels,
                    "pretrain": pretrain or "none",
                    "spam F1": f1_score(y_test, clf.predict(X_test), pos_label="spam"),
                    "accuracy": clf.score(X_test, y_test),
                    "fit s": seconds,
                }
            )
results = pd.DataFrame(rows).groupby(["labels", "pretrain"], as_index=False).mean()
print(results.round(3).to_string(index=False))

# %%
# Spam F1 against the number of labels
# ------------------------------------
#
# Pretraining costs two passes of the language model over all 4,460
# messages, whatever the number of labels; what it buys shows most where
# labels are fewest.
fig, ax = plt.subplots(figsize=(6, 4))
for pretrain, group in results.groupby("pretrain"):
    label = "pretrained on all messages" if pretrain == "lm" else "labelled only"
    ax.plot(group["labels"], group["spam F1"], marker="o", label=label)
ax.set_xscale("log")
ax.set_xlabel("labelled training messages")
ax.set_ylabel("spam F1 on the test messages")
ax.legend()
fig.tight_layout()
plt.show()
