"""Everything for training through Hugging Face Accelerate, in one place.

The accelerator and its device, the seed every process shares, each
process's shard of the batches, and :class:`AcceleratedRNNNet`, the net that
trains through skorch's ``AccelerateMixin``. Accelerate is imported only when
``accelerate=True`` asks for it.
"""

import torch
from skorch.hf import AccelerateMixin

from ._device import PRECISIONS
from ._net import RNNNet


def _import_accelerate():
    try:
        import accelerate
    except ImportError:
        raise ImportError(
            "accelerate=True needs the accelerate package: "
            "pip install 'sklearn-rnn[accelerate]'."
        ) from None
    return accelerate


def accelerate_device():
    """The device Accelerate gives this process, as a torch device string."""
    accelerate = _import_accelerate()
    from accelerate.utils import parse_flag_from_env

    # as the Accelerator will: ACCELERATE_USE_CPU asks for the CPU backend
    cpu = parse_flag_from_env("ACCELERATE_USE_CPU")
    device = accelerate.PartialState(cpu=cpu).device
    # Accelerate's distributed CPU backend names the device "cpu:0", a name
    # torch.load cannot map when the model is unpickled.
    return "cpu" if device.type == "cpu" else str(device)


def make_accelerator(precision):
    """An ``accelerate.Accelerator`` for this process.

    Accelerate reads the processes and devices from the environment that
    ``accelerate launch`` (or ``torchrun``) sets up; started plainly, it is one
    process on the GPU if there is one. Mixed precision is Accelerate's, from
    ``precision``. Device placement is left to skorch, as without Accelerate.
    """
    accelerate = _import_accelerate()
    try:
        return accelerate.Accelerator(
            mixed_precision=PRECISIONS[precision].accelerate_name,
            device_placement=False,
        )
    except ValueError as error:
        raise ValueError(
            f"Accelerate could not train with precision={precision!r} in this "
            "process; it keeps the mixed precision of the process's first "
            f"accelerated fit. Accelerate said: {error}"
        ) from None


def shared_seed(seed, accelerator):
    """The main process's ``seed`` in every process of a distributed fit.

    Each process must shuffle and split the data alike, or their shards of an
    epoch would overlap.
    """
    if accelerator is None or accelerator.num_processes == 1:
        return seed
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([seed])[0]


class AcceleratedRNNNet(AccelerateMixin, RNNNet):
    """:class:`RNNNet` trained through Hugging Face Accelerate.

    skorch's ``AccelerateMixin`` prepares the module and optimizer with the
    ``accelerator`` (wrapping the module for distributed data parallel
    training when ``accelerate launch`` started several processes) and runs
    each step under its autocast and loss scaling. The iterator's shards and
    the device come from the estimator, which builds the accelerator with
    ``device_placement=False``: skorch moves the data, as everywhere else.

    A pickled net leaves the accelerator (tied to this process's distributed
    state) and the optimizer's wrapper out; a fit that continues training
    attaches a new accelerator with :meth:`attach`.
    """

    def get_iterator(self, dataset, training=False):
        shuffle_seed = getattr(self, "shuffle_seed_", None)
        if training and shuffle_seed is not None:
            # each epoch's shuffle alike in every process, whatever else drew
            # from torch's generator there
            self.iterator_train__seed = shuffle_seed + len(self.history)
        return super().get_iterator(dataset, training=training)

    def detach(self):
        """Unwrap the module and optimizer from Accelerate's wrappers."""
        self._unwrap_accelerator()
        self._unwrap_optimizers()
        return self

    def attach(self, accelerator):
        """Train with ``accelerator`` from now on; prepare the net for it."""
        self._unwrap_accelerator()
        self._unwrap_optimizers()
        self.accelerator = accelerator
        return self._initialize_accelerator()

    def _initialize_accelerator(self):
        # Accelerate wraps every module it prepares in DistributedDataParallel
        # when several processes train, and DDP refuses modules without
        # parameters, such as the loss: prepare only criteria that learn.
        criteria = self._criteria
        self._criteria = [
            name
            for name in criteria
            if any(p.requires_grad for p in getattr(self, name + "_").parameters())
        ]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def _unwrap_optimizers(self):
        for name, optimizer in self._plain_optimizers().items():
            setattr(self, name, optimizer)

    def _plain_optimizers(self):
        """Each optimizer attribute's torch optimizer, outside accelerate's wrapper."""
        plain = {}
        for name in self._optimizers:
            optimizer = getattr(self, name + "_", None)
            # accelerate's AcceleratedOptimizer keeps the optimizer it wraps
            inner = getattr(optimizer, "optimizer", None)
            if isinstance(inner, torch.optim.Optimizer):
                plain[name + "_"] = inner
        return plain

    def __getstate__(self):
        # Modules are unwrapped when training ends (unwrap_after_train); the
        # optimizers' wrappers and the accelerator are swapped out for the
        # copy only, so pickling leaves the net as it was.
        kept = {name: getattr(self, name) for name in self._plain_optimizers()}
        accelerator = self.accelerator
        try:
            self._unwrap_optimizers()
            self.accelerator = None
            return super().__getstate__()
        finally:
            self.accelerator = accelerator
            for name, optimizer in kept.items():
                setattr(self, name, optimizer)


def print_on_main_process(*args, **kwargs):
    """``print`` in the main process of a distributed fit only."""
    from accelerate import PartialState

    PartialState().print(*args, **kwargs)


def check_batches_for_processes(n_samples, batch_size, accelerator):
    n_batches = -(-n_samples // batch_size)
    if n_batches < accelerator.num_processes:
        raise ValueError(
            f"{n_samples} training samples make {n_batches} batch(es) of "
            f"batch_size={batch_size}, fewer than the {accelerator.num_processes} "
            "processes that share each epoch: every process needs one. Train on "
            "more samples at a time, or with a smaller batch_size."
        )


def share_shuffles(net, accelerator, seed):
    """Have every process of a distributed fit shuffle each epoch alike."""
    if accelerator is not None:
        shared = accelerator.num_processes > 1
        net.shuffle_seed_ = seed if shared else None


def detach_accelerator(net):
    """Unwrap an accelerated net's module and optimizer once training ended.

    Done here rather than by skorch at the end of training, where the module
    would be unwrapped before early stopping loads the best weights, saved
    from the wrapped module under other names.
    """
    if isinstance(net, AcceleratedRNNNet):
        net.detach()
