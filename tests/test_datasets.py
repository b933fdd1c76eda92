import numpy as np
import pandas as pd
import pytest

from sklearn_rnn.datasets import load_sms_spam


def test_sms_spam_splits_and_labels():
    train = load_sms_spam()
    texts, labels = load_sms_spam(subset="test", return_X_y=True)
    assert len(train.data) == 4460 and len(texts) == 1114
    assert np.unique(train.target, return_counts=True)[1].tolist() == [3862, 598]
    assert set(labels) == {"ham", "spam"}
    assert all(isinstance(text, str) and text for text in train.data)
    assert "CC BY 4.0" in train.DESCR or "Attribution 4.0" in train.DESCR
    assert len(load_sms_spam(subset="all", return_X_y=True)[0]) == 4460 + 1114


def test_sms_spam_as_frame():
    bunch = load_sms_spam(as_frame=True)
    assert isinstance(bunch.frame, pd.DataFrame)
    assert list(bunch.frame.columns) == ["text", "label"]
    assert isinstance(bunch.data, pd.Series)


def test_unknown_subset_is_refused():
    with pytest.raises(ValueError, match="subset"):
        load_sms_spam(subset="validation")


def test_description_states_the_repeated_messages():
    train, _ = load_sms_spam(return_X_y=True)
    test, _ = load_sms_spam(subset="test", return_X_y=True)
    repeated = sum(text in set(train) for text in test)
    assert f"{repeated} test" in load_sms_spam().DESCR
