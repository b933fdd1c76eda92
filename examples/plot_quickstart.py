"""
Quick start: spam detection on real SMS messages
================================================

Train a bidirectional LSTM on the SMS Spam Collection, which ships with
sklearn-rnn, evaluate it on the held-out test split, and compare it with the
usual TF-IDF + logistic-regression baseline on the same split.
"""

import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, f1_score
from sklearn.pipeline import make_pipeline

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn.datasets import load_sms_spam

X_train, y_train = load_sms_spam(subset="train", return_X_y=True)
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)
print(f"{len(X_train)} training and {len(X_test)} test messages")

# %%
# Raw texts in, labels out: the classifier learns its vocabulary, then trains
# the network with its defaults, which hold out 10% of the training data to
# stop early (from 1000 training texts on).
clf = RNNTextClassifier(random_state=0)
start = time.perf_counter()
clf.fit(X_train, y_train)
rnn_seconds = time.perf_counter() - start
print(f"trained {clf.n_epochs_} epochs in {rnn_seconds:.0f} s")
print(classification_report(y_test, clf.predict(X_test), digits=3))

# %%
# The baseline every text model must beat.
baseline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
start = time.perf_counter()
baseline.fit(X_train, y_train)
baseline_seconds = time.perf_counter() - start

for name, model, seconds in [
    ("RNNTextClassifier", clf, rnn_seconds),
    ("TF-IDF + logistic regression", baseline, baseline_seconds),
]:
    predicted = model.predict(X_test)
    print(
        f"{name:30s} accuracy {model.score(X_test, y_test):.3f}  "
        f"spam F1 {f1_score(y_test, predicted, pos_label='spam'):.3f}  "
        f"fit {seconds:.1f} s"
    )

print(clf.predict(["WINNER!! Claim your free prize now, text CLAIM to 80082"]))
