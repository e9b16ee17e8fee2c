"""``indexnet train``: train the seed's network on digits, MNIST or synthetic data.

The work is :func:`indexnet.seednet.train.train`; this module reads the
options, checks every output path before training, and prints a summary (or
one JSON object).

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["train", "--dataset", "synthetic", "--hidden", "8"])
>>> args.epochs, batch_size(args), parse_hidden(args.hidden)
(40, 32, (8,))
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidArgumentError
from ..fileio import check_output_path
from ..seednet.backends import BACKENDS
from ..seednet.data import DATASETS, load_dataset, one_hot
from ..seednet.nn import ACTIVATIONS, Network
from ..seednet.train import DEFAULTS, TrainResult, accuracy, plot_history, train
from ..validate import fraction, positive_real
from .argtypes import non_negative_int, parse_hidden, positive_int
from .options import add_json_option, json_text

__all__ = ["batch_size", "register", "run"]

_DESCRIPTION = (
    "Train the seed's fully connected network (sigmoid hidden layers, softmax output, "
    "cross-entropy loss) by minibatch SGD with momentum, every product through the "
    "seed's einsum formulas. The data are split into train/validation/test parts "
    "(70/10/20 for digits and synthetic; MNIST keeps its own test files and takes 10% "
    "of its training files for validation); the summary reports test accuracy."
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to an argparse subparsers object; returns its parser."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "train",
        help="train the seed's network on digits, MNIST or synthetic data",
        description=_DESCRIPTION,
        epilog="example: indexnet train --epochs 20 --save net.npz --plot loss.png",
    )
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="digits: scikit-learn's bundled 8x8 digits (needs indexnet[data]); "
        "mnist: the four IDX files in --data-dir; synthetic: Gaussian blobs "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding MNIST's IDX files (train-images-idx3-ubyte, ... plain or "
        ".gz); needed for --dataset mnist",
    )
    p.add_argument(
        "--hidden",
        default=",".join(map(str, d["hidden"])),
        metavar="SIZES",
        help="hidden-layer sizes as a comma list, e.g. 128 or 256,64; 'none' for "
        "softmax regression; no layer's weight matrix (its inputs times its outputs) "
        "may exceed 2**31 elements (default: %(default)s)",
    )
    p.add_argument(
        "--activation",
        choices=tuple(ACTIVATIONS),
        default=d["activation"],
        help="hidden-layer activation (default: %(default)s, the seed's)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=d["epochs"],
        metavar="N",
        help="passes over the training set, >= 1 (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"examples a step, >= 1; the ragged last batch of an epoch is kept (default: "
        f"{d['batch_size']}; with --dask, the whole training set: full-batch gradient "
        "descent, while N there means steps on whole chunks holding at least N rows)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=d["lr"],
        metavar="RATE",
        help="learning rate, > 0 (default: %(default)s)",
    )
    p.add_argument(
        "--momentum",
        type=float,
        default=d["momentum"],
        metavar="M",
        help="momentum in [0, 1); 0 is plain SGD (default: %(default)s)",
    )
    p.add_argument(
        "--l2",
        type=float,
        default=d["l2"],
        metavar="LAMBDA",
        help="L2 penalty λ/2·Σ‖W‖² on the weights, >= 0 (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=d["seed"],
        help="seeds the data split, the initial weights and the shuffling, >= 0; the "
        "same seed gives the same run (default: %(default)s)",
    )
    p.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=d["dtype"],
        help="floating-point type of weights and data (default: %(default)s)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="numpy",
        help="the array library the network computes in (torch, jax and cupy need "
        "indexnet[backends]; jax runs in 64-bit mode for float64) (default: %(default)s)",
    )
    p.add_argument(
        "--device",
        metavar="DEVICE",
        help="where a torch, jax or cupy network lives: cpu, cuda, cuda:1, gpu... "
        "(default: a CUDA device when there is one, else the CPU)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="compute every gradient on a Dask cluster, in chunks of rows: the scheduler's "
        "address (tcp://HOST:PORT), or 'local' for a cluster of --dask-workers processes on "
        "this machine; the client steps the weights and writes the checkpoints; a scheduler "
        "that cannot be reached is an error naming it (exit status 2)",
    )
    p.add_argument(
        "--dask-workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="worker processes of --dask local (default: %(default)s)",
    )
    p.add_argument(
        "--chunk-rows",
        type=positive_int,
        default=65_536,
        metavar="N",
        help="rows a chunk holds on the cluster, one task each (default: %(default)s)",
    )
    p.add_argument(
        "--rows",
        type=positive_int,
        metavar="N",
        help="with --dask and --dataset synthetic: draw N training rows on the workers, "
        "chunk by chunk from the seed, so that the data need not fit anywhere at once",
    )
    p.add_argument(
        "--save",
        metavar="PATH",
        help="save the network (.npz) atomically after every epoch that is the best so "
        "far by validation loss and better than the starting weights, so a crash or a "
        "divergence never replaces better weights with worse; training that diverges "
        "stops with exit status 2; its folder must exist (checked before training)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        help="write the loss and accuracy curves to this PNG, atomically; its folder "
        "must exist (checked before training; needs indexnet[plot])",
    )
    add_json_option(
        p,
        help="print one JSON object (test_accuracy, train_loss, val_accuracy, epochs, "
        "seconds, dataset, layer_sizes, history, ...) instead of the summary",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="do not show the progress bar on stderr"
    )
    p.set_defaults(func=run)
    return p


def batch_size(args: argparse.Namespace) -> int | None:
    """The step's batch size: ``--batch-size``, else the default (None: full batch on Dask)."""
    if args.batch_size is not None or getattr(args, "dask", None) is not None:
        return args.batch_size
    return int(DEFAULTS["batch_size"])


def run(args: argparse.Namespace) -> int:
    """Carry out ``indexnet train``: load, train, evaluate on the test part, report; returns 0."""
    hidden = parse_hidden(args.hidden)
    positive_real("--lr", args.lr)
    fraction("--momentum", args.momentum)
    _check_options(args)
    _check_outputs(args)
    if args.dask is not None:
        result, counts = _run_on_cluster(args, hidden)
    else:
        result, counts = _run_here(args, hidden)
    if args.plot is not None:
        plot_history(result.history, args.plot)
    if args.json:
        _print_json(args, result, counts)
    else:
        _print_summary(args, result, counts)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    if args.data_dir is not None and args.dataset != "mnist":
        raise InvalidArgumentError("--data-dir is only used with --dataset mnist")
    if args.rows is not None and (args.dask is None or args.dataset != "synthetic"):
        raise InvalidArgumentError("--rows is only used with --dask and --dataset synthetic")
    if args.dask is not None and args.backend != "numpy":
        raise InvalidArgumentError("--dask computes with NumPy on the workers: drop --backend "
                                   f"{args.backend}")
    if args.device is not None and args.backend == "numpy":
        raise InvalidArgumentError("--device is only used with --backend torch, jax or cupy")
    if args.backend == "jax" and args.dtype == "float64":
        try:  # JAX computes in float32 unless 64-bit mode is on: this process asks for it
            import jax

            jax.config.update("jax_enable_x64", True)
        except ImportError:
            pass  # the network says what to install


def _run_here(args: argparse.Namespace, hidden: tuple[int, ...]
              ) -> tuple[TrainResult, dict[str, Any]]:
    """Minibatch SGD in this process, on the network's backend."""
    train_set, val_set, test_set = load_dataset(args.dataset, args.data_dir, seed=args.seed)
    sizes = (train_set.d, *hidden, train_set.n_classes)
    network = Network(
        sizes, activation=args.activation, l2=args.l2, seed=args.seed, dtype=args.dtype,
        backend=args.backend, device=args.device,
    )
    result = train(
        network,
        train_set,
        val_set,
        epochs=args.epochs,
        batch_size=batch_size(args) or int(DEFAULTS["batch_size"]),
        lr=args.lr,
        momentum=args.momentum,
        seed=args.seed,
        progress=not args.no_progress,
        save=args.save,
    )
    result.test_accuracy = accuracy(network, test_set)
    result.dataset = args.dataset
    counts: dict[str, Any] = {"n_train": len(train_set), "n_val": len(val_set),
                              "n_test": len(test_set)}
    if args.backend != "numpy":
        counts["device"] = network.device
    return result, counts


def _check_outputs(args: argparse.Namespace) -> None:
    """Check every output path now, so that a typo cannot throw away a finished run."""
    if args.plot is not None:
        check_output_path(args.plot, "--plot", ".png")
        try:  # matplotlib is optional (indexnet[plot]): only --plot needs it
            import matplotlib  # noqa: F401
        except ImportError:
            raise InvalidArgumentError(
                "--plot needs matplotlib: pip install indexnet[plot]"
            ) from None
    if args.save is not None:
        check_output_path(args.save, "--save")


def _run_on_cluster(args: argparse.Namespace, hidden: tuple[int, ...]
                    ) -> tuple[TrainResult, dict[str, Any]]:
    """Full- or large-batch gradient descent, every gradient computed on the Dask cluster."""
    from ..seednet import distributed as dist  # deferred: imports dask when asked for

    if args.rows is not None:  # drawn on the workers; validation and test sets drawn here
        x, y = dist.synthetic_chunks(args.rows, chunk_rows=args.chunk_rows, seed=args.seed,
                                     dtype=args.dtype)
        held_out = [dist.synthetic_dataset(2_000, seed=args.seed, stream=s) for s in (1, 2)]
        val_set, test_set = held_out
        d, k, n_train = val_set.d, val_set.n_classes, args.rows
    else:
        train_set, val_set, test_set = load_dataset(args.dataset, args.data_dir, seed=args.seed)
        x, y = train_set.x, one_hot(train_set.labels, train_set.n_classes, dtype=args.dtype)
        d, k, n_train = train_set.d, train_set.n_classes, len(train_set)
    network = Network((d, *hidden, k), activation=args.activation, l2=args.l2, seed=args.seed,
                      dtype=args.dtype)
    with dist.open_cluster(args.dask, workers=args.dask_workers) as client:
        gradient = dist.ClusterGradient(client, x, y, chunk_rows=args.chunk_rows)
        result = dist.train_on_cluster(
            network, gradient, epochs=args.epochs, lr=args.lr, momentum=args.momentum,
            batch_rows=args.batch_size, seed=args.seed, val=(val_set.x, val_set.labels),
            save=args.save, progress=not args.no_progress)
        address = args.dask if args.dask == dist.LOCAL else str(client.scheduler.address)
        chunks = gradient.chunks
    result.test_accuracy = accuracy(network, test_set)
    result.dataset = args.dataset
    counts = {"n_train": n_train, "n_val": len(val_set), "n_test": len(test_set),
              "dask": address, "chunks": chunks}
    return result, counts


def _print_json(args: argparse.Namespace, result: TrainResult, counts: dict[str, Any]) -> None:
    out = result.to_json()
    out.update(
        activation=args.activation,
        lr=args.lr,
        momentum=args.momentum,
        l2=args.l2,
        batch_size=batch_size(args),
        backend=args.backend,
        seed=args.seed,
        dtype=args.dtype,
        **counts,
        save=args.save,
        plot=args.plot,
    )
    print(json_text(out))


def _print_summary(
    args: argparse.Namespace, result: TrainResult, counts: dict[str, Any]
) -> None:
    net_name = "-".join(map(str, result.layer_sizes))
    where = ""
    if "dask" in counts:
        chunks = counts["chunks"]
        where = (f", on the Dask cluster at {counts['dask']} ({chunks} chunk"
                 f"{'' if chunks == 1 else 's'})")
    elif args.backend != "numpy":
        where = f", on {args.backend} ({counts.get('device', '')})"
    print(
        f"indexnet train: {args.dataset} ({counts['n_train']} train, {counts['n_val']} val, "
        f"{counts['n_test']} test), network {net_name} {args.activation}/softmax{where}"
    )
    size = batch_size(args)
    print(
        f"  {result.epochs} epochs in {result.seconds:.1f} s (batch "
        f"{'full' if size is None else size}, lr {args.lr}, momentum {args.momentum})"
    )
    val = f"{result.val_accuracy:.2%}" if result.val_accuracy is not None else "n/a"
    print(
        f"  train loss {result.train_loss:.4f}   train accuracy {result.train_accuracy:.2%}   "
        f"val accuracy {val}   test accuracy {result.test_accuracy:.2%}"
    )
    if args.save and result.best_epoch:
        print(f"  saved {args.save} (epoch {result.best_epoch}, the best validation loss)")
    elif args.save:
        print(f"  not saved: no epoch improved on the starting weights; {args.save} is "
              "unchanged")
    if args.plot:
        print(f"  plot {args.plot}")
