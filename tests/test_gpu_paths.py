"""The CUDA paths, checked on the CPU where they can be.

Mixed precision runs through a test-only net whose autocast is the CPU's
(which supports bfloat16), the fp16 loss scaler through the CPU's
``GradScaler``, placement through the ``meta`` device. Tests that need a GPU
are marked ``cuda`` and run where one is present.
"""

import copy
import pickle

import numpy as np
import pytest
import torch
from helpers import FAST, keyword_data
from skorch.callbacks import Callback
from skorch.helper import predefined_split
from torch.overrides import TorchFunctionMode

from sklearn_rnn import RNNTextClassifier, load_model, save_model
from sklearn_rnn._net import GradientClipping, RNNNet
from sklearn_rnn.batching import EncodedTexts
from sklearn_rnn.modules import RNNModule

IDS = np.random.RandomState(0).randint(2, 20, size=(96, 6))
TARGETS = (IDS[:, 0] > 10).astype(np.int64)


class CPUAutocastNet(RNNNet):
    """An RNNNet whose bf16 autocast is the CPU's, as CUDA's is on a GPU."""

    def _autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16)


def small_net(net_class=RNNNet, **params):
    defaults = {
        "module__n_tokens": 20,
        "module__n_classes": 2,
        "module__embedding_dim": 4,
        "module__hidden_size": 4,
        "module__bag_of_words": True,
        "criterion": torch.nn.CrossEntropyLoss,
        "criterion__reduction": "none",
        "train_split": None,
        "batch_size": 8,
        "max_epochs": 2,
        "device": "cpu",
        "verbose": 0,
    }
    return net_class(RNNModule, **{**defaults, **params})


def output_dtypes(module_types):
    """Record the dtype of every output of modules of ``module_types``."""
    seen = []

    def hook(module, inputs, output):
        if isinstance(module, module_types):
            first = output[0] if isinstance(output, tuple) else output
            seen.append((type(module).__name__, first.dtype))

    return seen, torch.nn.modules.module.register_module_forward_hook(hook)


def test_bf16_logits_are_float32_so_validation_scores():
    valid = EncodedTexts(IDS[:32], TARGETS[:32])
    # without the bag, whose float32 sum over ids would promote the logits
    net = small_net(
        CPUAutocastNet,
        precision="bf16",
        train_split=predefined_split(valid),
        module__bag_of_words=False,
    )
    seen, handle = output_dtypes((torch.nn.Linear,))
    try:
        net.fit(IDS, TARGETS)
    finally:
        handle.remove()
    assert ("Linear", torch.bfloat16) in seen  # the autocast was on
    assert all(np.isfinite(row["valid_acc"]) for row in net.history)
    assert net.infer(EncodedTexts(IDS).batch(np.arange(4))[0]).dtype == torch.float32


def test_under_bf16_the_recurrence_runs_in_float32():
    net = small_net(CPUAutocastNet, precision="bf16").initialize()
    seen, handle = output_dtypes((torch.nn.LSTM, torch.nn.Linear))
    try:
        with torch.no_grad():
            net.infer(EncodedTexts(IDS).batch(np.arange(8))[0])
    finally:
        handle.remove()
    assert {dtype for name, dtype in seen if name == "LSTM"} == {torch.float32}
    assert {dtype for name, dtype in seen if name == "Linear"} == {torch.bfloat16}


class InterruptAfterUnscaling(Callback):
    """Ctrl-C in the third step, after the scaler unscaled the gradients."""

    def initialize(self):
        self.steps = 0
        return self

    def on_grad_computed(self, net, **kwargs):
        self.steps += 1
        if self.steps == 3:
            raise KeyboardInterrupt


def test_an_interrupt_inside_an_fp16_step_leaves_the_scaler_usable():
    net = small_net(precision="fp16", callbacks=[("stop", InterruptAfterUnscaling())])
    net.fit(IDS, TARGETS)
    assert net.interrupted_
    restored = pickle.loads(pickle.dumps(net))
    net.set_params(callbacks=[])
    net.partial_fit(IDS, TARGETS)
    assert restored.predict_proba(IDS).shape == (96, 2)


@pytest.fixture
def flatten_calls(monkeypatch):
    calls = []
    flatten = torch.nn.RNNBase.flatten_parameters

    def counted(layer):
        calls.append(layer)
        return flatten(layer)

    monkeypatch.setattr(torch.nn.RNNBase, "flatten_parameters", counted)
    return calls


def test_loading_a_model_flattens_its_recurrent_weights(flatten_calls, tmp_path):
    X, y = keyword_data(60)
    clf = RNNTextClassifier(**{**FAST, "max_epochs": 1, "num_layers": 2}).fit(X, y)
    layers = [layer for directions in clf.net_.module_.layers for layer in directions]
    flatten_calls.clear()
    copies = [pickle.loads(pickle.dumps(clf))]
    save_model(clf, tmp_path / "model.safetensors")
    copies.append(load_model(tmp_path / "model.safetensors"))
    for loaded in copies:
        loaded_layers = {
            id(layer)
            for directions in loaded.net_.module_.layers
            for layer in directions
        }
        assert loaded_layers <= {id(layer) for layer in flatten_calls}
        assert len(loaded_layers) == len(layers)


def test_moving_a_fitted_net_moves_module_loss_and_optimizer_state():
    net = small_net(optimizer=torch.optim.Adam).fit(IDS, TARGETS)
    moved = copy.deepcopy(net).move_to("meta")
    assert moved.device == "meta"
    tensors = [*moved.module_.parameters(), *moved.module_.buffers()]
    assert tensors and all(tensor.device.type == "meta" for tensor in tensors)
    state = [
        value
        for values in moved.optimizer_.state.values()
        for value in values.values()
        if isinstance(value, torch.Tensor) and value.dim() > 0
    ]
    assert state and all(value.device.type == "meta" for value in state)
    # the optimizer still trains the moved weights, not copies left behind
    trained = {
        id(p) for group in moved.optimizer_.param_groups for p in group["params"]
    }
    assert trained == {id(p) for p in moved.module_.parameters()}
    assert all(p.device.type == "cpu" for p in net.module_.parameters())


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_continued_fit_on_a_missing_gpu_is_refused_not_run_on_the_cpu():
    X, y = keyword_data(60)
    clf = RNNTextClassifier(**FAST, warm_start=True).fit(X, y)
    proba = clf.predict_proba(X)
    with pytest.raises(ValueError, match="CUDA is not available"):
        clf.set_params(device="cuda").fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.cuda
def test_a_continued_fit_moves_a_cpu_model_to_the_gpu():
    X, y = keyword_data(60)
    clf = RNNTextClassifier(**FAST, warm_start=True).fit(X, y)
    clf.set_params(device="cuda").fit(X, y)
    assert all(p.device.type == "cuda" for p in clf.net_.module_.parameters())
    assert clf.n_epochs_ == 2 * FAST["max_epochs"]


@pytest.mark.cuda
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_fits_with_a_validation_split_on_a_gpu(precision):
    X, y = keyword_data(1200)
    params = {**FAST, "device": "cuda", "max_epochs": 2, "early_stopping": True}
    clf = RNNTextClassifier(**params, precision=precision).fit(X, y)
    assert all(np.isfinite(row["valid_acc"]) for row in clf.history_)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.predict_proba(X[:5]).dtype == np.float64


HOST_READS = {
    torch.Tensor.item,
    torch.Tensor.tolist,
    torch.Tensor.numpy,
    torch.Tensor.cpu,
    torch.Tensor.__bool__,
    torch.Tensor.__float__,
    torch.Tensor.__int__,
}


class HostReads(Callback, TorchFunctionMode):
    """Count, per training step, the reads of computed tensors by the host.

    On a GPU each is a wait for the device. The batch's own tensors are left
    out: they are made on the host and stay there. Counted from the start of
    a batch to the end of every other callback's on_batch_end.
    """

    def initialize(self):
        self.per_step, self.inputs, self.count = [], set(), 0
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            inputs, targets = batch
            self.inputs = {id(t) for t in [*inputs.values(), targets]}
            self.count = 0
            self.__enter__()

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.__exit__(None, None, None)
            self.per_step.append(self.count)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in HOST_READS and id(args[0]) not in self.inputs:
            self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("precision", ["float32", "fp16"])
def test_a_training_step_reads_from_the_device_once(precision):
    """skorch's read of the loss, which the divergence check reuses. Under
    fp16 the fused optimizer takes the loss scaler's check for infinite
    gradients on the device, with no read."""
    counter = HostReads()
    net = small_net(
        precision=precision,
        # as the estimator builds it: the fused Adam keeps its step count on
        # the device (the default one reads it from the host at every step)
        optimizer=torch.optim.Adam,
        optimizer__fused=True,
        callbacks=[("clip", GradientClipping(1.0)), ("reads", counter)],
    )
    weights = np.linspace(0.5, 2.0, len(IDS))
    net.fit(EncodedTexts(IDS, TARGETS, weights), None)
    assert len(counter.per_step) == 2 * len(IDS) // 8
    assert set(counter.per_step) == {1}
