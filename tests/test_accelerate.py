"""Training through Hugging Face Accelerate, on the CPU.

One process tests the integration (same model as without Accelerate,
pickling, continued training); two processes started by torchrun, with
Accelerate's CPU backend (gloo), test distributed data parallel training:
each process trains on its half of every epoch, and both end with the same
weights.
"""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import FAST, keyword_data

from sklearn_rnn import RNNTextClassifier

pytest.importorskip("accelerate")

# Accelerate chooses the device; "auto" is the only device it accepts.
PARAMS = {**FAST, "device": "auto"}


@pytest.fixture(autouse=True)
def fresh_accelerate_state(request, monkeypatch):
    """Accelerate keeps its state (the precision among it) for the whole
    process: each test starts and leaves it unset, so none sees another's.
    Tests not marked cuda run on the CPU even on a GPU machine, where their
    exact comparisons hold."""
    from accelerate.state import AcceleratorState

    if "cuda" not in request.keywords:
        monkeypatch.setenv("ACCELERATE_USE_CPU", "1")
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_one_process_trains_the_same_model_as_without_accelerate(keyword_texts):
    X, y = keyword_texts
    # a clipping threshold that does clip, through Accelerate's clip_grad_norm_
    params = {**PARAMS, "clip_grad_norm": 0.05}
    accelerated = RNNTextClassifier(**params, accelerate=True).fit(X, y)
    plain = RNNTextClassifier(**{**params, "device": "cpu"}).fit(X, y)
    # the same arithmetic in one process; a tolerance, not equality, since
    # Accelerate's own clipping path may order its sums differently
    np.testing.assert_allclose(
        accelerated.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6
    )

    def without_durations(history):
        return [{k: v for k, v in row.items() if k != "dur"} for row in history]

    expected = without_durations(plain.history_)
    assert without_durations(accelerated.history_) == [
        pytest.approx(row, rel=1e-5) for row in expected
    ]


def test_the_fitted_model_pickles_without_accelerate_objects(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**PARAMS, accelerate=True).fit(X, y)
    data = pickle.dumps(clf)
    # neither the accelerator nor accelerate's optimizer wrapper is stored,
    # so the file loads where accelerate is not installed
    assert b"accelerate.accelerator" not in data
    assert b"accelerate.optimizer" not in data
    loaded = pickle.loads(data)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    # pickling left the fitted estimator able to go on training
    assert clf.net_.accelerator is not None
    clf.partial_fit(X[:40], y[:40])


def test_training_continues_with_a_new_accelerator(keyword_texts):
    X, y = keyword_texts
    clf = RNNTextClassifier(**PARAMS, accelerate=True).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert loaded.n_epochs_ == clf.n_epochs_ + 2
    assert loaded.net_.accelerator is not None
    loaded.partial_fit(X[:40], y[:40])
    assert loaded.n_epochs_ == clf.n_epochs_ + 3


def test_training_continues_only_as_it_began(keyword_texts):
    X, y = keyword_texts
    plain = RNNTextClassifier(**PARAMS).fit(X, y)
    with pytest.raises(ValueError, match="built without Accelerate"):
        plain.set_params(warm_start=True, accelerate=True).fit(X, y)
    accelerated = RNNTextClassifier(**PARAMS, accelerate=True).fit(X, y)
    with pytest.raises(ValueError, match="trained with Accelerate"):
        accelerated.partial_fit(X, y, classes=["neg", "pos"]).set_params(
            accelerate=False
        ).partial_fit(X, y)


def test_accelerate_chooses_the_device(keyword_texts):
    with pytest.raises(ValueError, match="leave device='auto'"):
        RNNTextClassifier(**FAST, accelerate=True).fit(*keyword_texts)


def test_a_refused_precision_leaves_accelerate_usable(keyword_texts):
    # refused before Accelerate's process-wide state takes the precision
    with pytest.raises(ValueError, match="needs a CUDA device"):
        RNNTextClassifier(**PARAMS, accelerate=True, precision="bf16").fit(
            *keyword_texts
        )
    RNNTextClassifier(**PARAMS, accelerate=True).fit(*keyword_texts)


@pytest.mark.cuda
def test_accelerate_trains_in_bf16_on_a_gpu(keyword_texts):
    clf = RNNTextClassifier(**PARAMS, accelerate=True, precision="bf16")
    assert clf.fit(*keyword_texts).predict_proba(keyword_texts[0]).dtype == np.float64


def test_a_loaded_model_says_how_to_continue(keyword_texts, tmp_path):
    from sklearn_rnn import load_model, save_model

    X, y = keyword_texts
    clf = RNNTextClassifier(**PARAMS, accelerate=True).fit(X, y)
    save_model(clf, tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="loaded by load_model"):
        loaded.partial_fit(X, y)
    loaded.set_params(accelerate=False).partial_fit(X, y)


DISTRIBUTED_SCRIPT = """
import json, pickle, sys
sys.path.insert(0, {tests!r})
from accelerate import PartialState
from helpers import FAST, keyword_data
from sklearn_rnn import RNNTextClassifier

X, y = keyword_data(240, seed=0)
# early stopping restores the best epoch's weights, saved while DDP wraps
# the network
clf = RNNTextClassifier(
    **{{**FAST, "device": "auto"}}, accelerate=True, early_stopping=True
).fit(X, y)
state = PartialState()
try:
    clf.partial_fit(X[:10], y[:10])  # one batch for two processes
    refused = ""
except ValueError as error:
    refused = str(error)
clf.partial_fit(X[:32], y[:32])
weights = sum(p.detach().abs().sum().item() for p in clf.net_.module_.parameters())
result = {{
    "rank": state.process_index,
    "processes": state.num_processes,
    "batches": [
        sum("train_loss" in batch for batch in row["batches"])
        for row in clf.net_.history
    ],
    "weights": weights,
    "refused": refused,
}}
with open({out!r} + f"/rank{{state.process_index}}.json", "w") as file:
    json.dump(result, file)
if state.is_main_process:
    with open({out!r} + "/model.pkl", "wb") as file:
        pickle.dump(clf, file)
"""


def test_two_processes_share_each_epoch_and_end_alike(tmp_path):
    script = tmp_path / "train.py"
    tests = str(Path(__file__).parent)
    script.write_text(DISTRIBUTED_SCRIPT.format(tests=tests, out=str(tmp_path)))
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", str(script)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in (0, 1)]
    assert [rank["processes"] for rank in ranks] == [2, 2]
    # 216 training texts (24 for validation) in batches of 16: 14 batches an
    # epoch, 7 for each process; then partial_fit's 32 texts, one each
    expected = [7] * FAST["max_epochs"] + [1]
    assert ranks[0]["batches"] == ranks[1]["batches"] == expected
    for rank in ranks:
        assert "fewer than the 2 processes" in rank["refused"]
    assert ranks[0]["weights"] == pytest.approx(ranks[1]["weights"], rel=1e-6)
    with open(tmp_path / "model.pkl", "rb") as file:
        clf = pickle.load(file)
    X, y = keyword_data(100, seed=1)
    assert clf.score(X, y) >= 0.9


def test_pickles_from_before_the_distributed_module_find_their_classes():
    """Accelerated models pickled when these lived in _net look them up there."""
    from sklearn_rnn import _distributed, _net

    assert _net.AcceleratedRNNNet is _distributed.AcceleratedRNNNet
    assert _net.print_on_main_process is _distributed.print_on_main_process
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        _net.Missing  # noqa: B018
    # as unpickling finds them, in a process that has imported nothing yet
    program = (
        "import pickle; "
        "print(pickle.loads(b'csklearn_rnn._net\\nAcceleratedRNNNet\\n.').__name__)"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "AcceleratedRNNNet"
