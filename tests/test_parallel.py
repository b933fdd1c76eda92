"""Grid searches spread over worker processes: joblib's loky and a Dask cluster.

Every search here scores each fit with its log loss and with two probes that
run in the worker right after the fit: the number of threads torch uses there
and the worker's process id.
"""

import multiprocessing
import os
import threading
from contextlib import contextmanager

import joblib
import numpy as np
import pytest
import torch
from helpers import FAST
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_rnn import RNNTextClassifier
from sklearn_rnn._device import seeded_generators

GRID = {"hidden_size": [4, 8]}
CV = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
# Thread counts that a worker would inherit from this process's environment.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def torch_threads(estimator, X, y):
    return torch.get_num_threads()


def process_id(estimator, X, y):
    return os.getpid()


def grid_search(**kwargs):
    return GridSearchCV(
        RNNTextClassifier(**FAST),
        GRID,
        cv=CV,
        scoring={
            "log_loss": "neg_log_loss",
            "threads": torch_threads,
            "pid": process_id,
        },
        refit="log_loss",
        **kwargs,
    )


@contextmanager
def one_torch_thread():
    """Run this process's fits on one thread, as each worker's fits run.

    Summation order, and so the last bits of a float result, depends on the
    number of threads: only fits on the same number of threads can be
    compared for equality.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def probes(search, name):
    return {
        value
        for key, values in search.cv_results_.items()
        if key.startswith("split") and key.endswith(f"_test_{name}")
        for value in values
    }


def assert_same_search(result, expected, texts):
    assert result.cv_results_["params"] == expected.cv_results_["params"]
    for key, values in expected.cv_results_.items():
        if key.endswith("_test_log_loss"):
            np.testing.assert_array_equal(result.cv_results_[key], values, key)
    assert result.best_params_ == expected.best_params_
    np.testing.assert_array_equal(
        result.best_estimator_.predict_proba(texts),
        expected.best_estimator_.predict_proba(texts),
    )


@pytest.fixture(scope="module")
def serial_search(keyword_texts):
    with one_torch_thread():
        return grid_search().fit(*keyword_texts)


def test_serial_search_ran_here_on_one_thread(serial_search):
    assert probes(serial_search, "pid") == {os.getpid()}
    assert probes(serial_search, "threads") == {1}


def test_two_jobs_give_the_results_of_one(
    serial_search, keyword_texts, keyword_texts_test
):
    search = grid_search(n_jobs=2)
    # One thread per worker on any machine; the refit runs in this process.
    with (
        joblib.parallel_config(backend="loky", inner_max_num_threads=1),
        one_torch_thread(),
    ):
        search.fit(*keyword_texts)
    assert os.getpid() not in probes(search, "pid")
    assert probes(search, "threads") == {1}
    assert_same_search(search, serial_search, keyword_texts_test[0])


def test_each_worker_uses_its_share_of_the_cores(keyword_texts, monkeypatch):
    # Unset, so that joblib chooses each worker's threads instead of passing
    # this process's setting on.
    for variable in THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    search = grid_search(n_jobs=2).fit(*keyword_texts)
    assert os.getpid() not in probes(search, "pid")
    # 2 workers side by side, each with half the cores and no more.
    assert probes(search, "threads") == {max(1, joblib.cpu_count() // 2)}


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    environ = os.environ.copy()
    # Unset, so that the workers get Dask's own setting (one thread each);
    # the nanny also writes its settings into this process's environment.
    for variable in THREAD_VARIABLES:
        os.environ.pop(variable, None)
    try:
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


def test_dask_cluster_gives_the_results_of_one_job(
    dask_client, serial_search, keyword_texts, keyword_texts_test
):
    worker_pids = set(dask_client.run(os.getpid).values())
    assert len(worker_pids) == 2
    assert os.getpid() not in worker_pids
    search = grid_search(n_jobs=-1)
    with joblib.parallel_backend("dask"), one_torch_thread():
        search.fit(*keyword_texts)
    assert probes(search, "pid") <= worker_pids
    assert probes(search, "threads") == {1}
    assert_same_search(search, serial_search, keyword_texts_test[0])


def test_fits_in_threads_of_one_process_give_the_results_of_one_job(
    serial_search, keyword_texts, keyword_texts_test
):
    # Threads share torch's global random generator, which each fit seeds:
    # fits in one process take turns, so that each draws only its own numbers.
    search = grid_search(n_jobs=2)
    with joblib.parallel_config(backend="threading"), one_torch_thread():
        search.fit(*keyword_texts)
    assert probes(search, "pid") == {os.getpid()}
    assert_same_search(search, serial_search, keyword_texts_test[0])


def _draw_in_a_seeded_fit(queue):
    with seeded_generators(0, "cpu"):
        queue.put(torch.rand(1).item())


def test_a_child_forked_during_a_fit_can_fit():
    # The child inherits the generators' lock as the fork found it: held,
    # here, by a fit in another thread. It must get a free lock of its own.
    inside, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with seeded_generators(1, "cpu"):
            inside.set()
            release.wait(60)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert inside.wait(60)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_draw_in_a_seeded_fit, args=(queue,))
        child.start()
        child.join(120)
        waited = child.is_alive()
        if waited:
            child.kill()
        assert not waited, "the forked child waited for its parent's lock"
        expected = torch.rand(1, generator=torch.Generator().manual_seed(0)).item()
        assert queue.get(timeout=120) == expected
    finally:
        release.set()
        holder.join()
