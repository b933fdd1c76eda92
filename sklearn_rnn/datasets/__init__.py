"""Small real labelled text data sets shipped with the package."""

import csv
import gzip
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

_SMS_SPAM_DESCR = """\
SMS Spam Collection v.1
-----------------------
5,574 English SMS messages labelled "ham" (legitimate) or "spam", collected by
Almeida, Gomez Hidalgo and Yamakami ("Contributions to the Study of SMS Spam
Filtering: New Collection and Results", DocEng 2011) and published in the UCI
Machine Learning Repository under the Creative Commons Attribution 4.0 licence.

The collection has no official split; this one is stratified and random
(numpy RandomState(0)): train 4,460 messages (3,862 ham / 598 spam), test 1,114
(965 ham / 149 spam). Texts are as in the original, whitespace runs collapsed.
The collection repeats many messages (mostly short automated ones): 109 test
messages also occur in train, and train holds 292 repeats of its own, so test
scores are slightly optimistic for every model alike.
"""


def load_sms_spam(*, subset="train", return_X_y=False, as_frame=False):
    """Load the SMS Spam Collection (binary, ham or spam), bundled offline.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which split to load; ``"all"`` joins train and test, in that order.
    return_X_y : bool, default=False
        Return ``(texts, labels)`` instead of a Bunch.
    as_frame : bool, default=False
        Give the data as a pandas DataFrame with columns ``text`` and
        ``label`` (in ``frame``; ``data`` and ``target`` become Series).
        Requires pandas.

    Returns
    -------
    data : Bunch
        ``data`` (texts, an object array or a Series), ``target`` (labels),
        ``target_names``, ``frame`` (a DataFrame when ``as_frame``, else None)
        and ``DESCR``, the description and the credit of the data.
    (texts, labels) : tuple
        When ``return_X_y`` is True.

    Notes
    -----
    Almeida, T.A., Gomez Hidalgo, J.M., Yamakami, A. Contributions to the
    Study of SMS Spam Filtering: New Collection and Results. DocEng 2011.
    Licence: CC BY 4.0.

    Examples
    --------
    >>> from sklearn_rnn.datasets import load_sms_spam
    >>> texts, labels = load_sms_spam(return_X_y=True)
    >>> len(texts), sorted(set(labels))
    (4460, ['ham', 'spam'])
    """
    splits = {"train": ["train"], "test": ["test"], "all": ["train", "test"]}
    if subset not in splits:
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    rows = []
    for split in splits[subset]:
        rows.extend(_read_csv(f"sms_spam_{split}.csv.gz"))
    texts = np.array([text for text, _ in rows], dtype=object)
    labels = np.array([label for _, label in rows], dtype=object)
    frame = None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame({"text": texts, "label": labels})
        texts, labels = frame["text"], frame["label"]
    if return_X_y:
        return texts, labels
    return Bunch(
        data=texts,
        target=labels,
        target_names=np.array(["ham", "spam"], dtype=object),
        frame=frame,
        DESCR=_SMS_SPAM_DESCR,
    )


def _read_csv(name):
    path = resources.files(__name__).joinpath("data", name)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        reader = csv.reader(text)
        header = next(reader)
        if header != ["text", "label"]:
            raise RuntimeError(f"{name} has an unexpected header {header}.")
        return [(row[0], row[1]) for row in reader]
