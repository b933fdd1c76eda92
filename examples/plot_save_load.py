"""
Saving and loading a trained model
==================================

A fitted :class:`~sklearn_rnn.RNNTextClassifier` can be kept in two ways:

- :func:`~sklearn_rnn.save_model` and :func:`~sklearn_rnn.load_model` write
  and read one file in a *safe format* (safetensors weights and a JSON
  description) that runs no code when it is loaded: for models you share,
  receive or keep for long;
- pickle or joblib keep the whole Python object, optimizer state included:
  for your own files, loaded with the same library versions.

This example saves a model both ways, checks that the loaded models predict
exactly what the original does, compares the files, and shows what the safe
loader refuses.
"""

import json
import os
import tempfile

import joblib
import numpy as np
from safetensors import safe_open

from sklearn_rnn import RNNTextClassifier, load_model, save_model
from sklearn_rnn.datasets import load_sms_spam

X_train, y_train = load_sms_spam(subset="train", return_X_y=True)
X_test, y_test = load_sms_spam(subset="test", return_X_y=True)

clf = RNNTextClassifier(
    embedding_dim=32, hidden_size=32, lr=1e-2, max_epochs=5, random_state=0
)
clf.fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.4f}")

# %%
# Both ways, into a temporary folder
# ----------------------------------
folder = tempfile.TemporaryDirectory()
safe_path = os.path.join(folder.name, "spam.safetensors")
pickle_path = os.path.join(folder.name, "spam.joblib")

save_model(clf, safe_path)
joblib.dump(clf, pickle_path)

from_safe = load_model(safe_path)
from_pickle = joblib.load(pickle_path)
print(from_safe)

# %%
# The same predictions
# --------------------
#
# Both loaded models give exactly the probabilities of the original, bit for
# bit, not just the same labels:
proba = clf.predict_proba(X_test)
for name, model in [("save_model", from_safe), ("joblib", from_pickle)]:
    same = np.array_equal(model.predict_proba(X_test), proba)
    print(f"{name:10s} identical probabilities: {same}")

# %%
# The fitted attributes come back too: the classes, the vocabulary, the
# training history.
print(from_safe.classes_, len(from_safe.vectorizer_.vocabulary_), "tokens")
print(f"{from_safe.n_epochs_} epochs, best epoch {from_safe.best_epoch_}")

# %%
# File sizes
# ----------
#
# The safe file holds the weights and a JSON description (parameters,
# classes, vocabulary, history), so it is about the size of the weights. The
# joblib file is several times larger: it holds the whole skorch net, with
# the optimizer's state (Adam keeps two running averages per weight, twice
# the weights again) and the callbacks, among them the learning-rate
# scheduler, which refers to the optimizer too.
n_weights = sum(p.numel() for p in clf.net_.module_.parameters())
print(f"{n_weights} weights ({n_weights * 4 / 1e6:.2f} MB as float32)")
for path in [safe_path, pickle_path]:
    print(f"{os.path.basename(path):17s} {os.path.getsize(path) / 1e6:.2f} MB")

# %%
# The description is plain JSON in the file's header, which can be read
# without loading the model, for instance to see which versions wrote it:
with safe_open(safe_path, framework="pt") as file:
    description = json.loads(file.metadata()["model"])
print({key: description[key] for key in description if key.endswith("_version")})

# %%
# The safe loader refuses a pickle
# --------------------------------
#
# Unpickling runs code from the file, so a pickle or joblib file from
# someone else is a program you would run. :func:`~sklearn_rnn.load_model`
# never unpickles: a pickle given to it, even renamed, is refused with a
# ``ValueError`` before anything in it is executed.
renamed = os.path.join(folder.name, "model-from-the-internet.safetensors")
with open(pickle_path, "rb") as source, open(renamed, "wb") as target:
    target.write(source.read())
try:
    load_model(renamed)
except ValueError as error:
    print(f"ValueError: {error}")

# %%
# Loading on the CPU
# ------------------
#
# ``load_model`` puts the model on the CPU unless told otherwise, whatever
# device it was trained on, so a model trained on a GPU loads on a machine
# without one. ``device="auto"`` takes a CUDA GPU when there is one.
# ``clf.net_.device`` says where a model runs.
on_cpu = load_model(safe_path, device="cpu")
print("trained on:", clf.net_.device, "| loaded on:", on_cpu.net_.device)

# %%
# A pickled model trained on a GPU also loads on a CPU-only machine: skorch
# maps its weights to the CPU and warns with a
# ``skorch.exceptions.DeviceWarning``.
#
# What the safe format leaves out
# -------------------------------
#
# A custom ``tokenizer`` function cannot be described without pickle, so
# ``save_model`` refuses such a model with a ``TypeError`` (a
# ``token_pattern``, being a string, is fine). The optimizer's state is not
# stored either: a loaded model can be trained further with
# ``warm_start=True``, but with a new optimizer, starting at ``lr``.
# ``save_model`` also takes a fitted ``Pipeline`` of a
# :class:`~sklearn_rnn.TextVectorizer` and an
# :class:`~sklearn_rnn.RNNClassifier`; for anything else, such as a fitted
# ``GridSearchCV``, save its ``best_estimator_`` or use joblib.
folder.cleanup()
