"""``indexnet train``: train the seed's network on digits, MNIST or synthetic data.

The work is :func:`indexnet.seednet.train.train`; this module reads the
options, checks every output path before training, and prints a summary (or
one JSON object).

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="indexnet")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["train", "--dataset", "synthetic", "--hidden", "8"])
>>> args.epochs, args.batch_size, parse_hidden(args.hidden)
(40, 32, (8,))
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidArgumentError
from ..fileio import check_output_path
from ..seednet.data import DATASETS, load_dataset
from ..seednet.nn import ACTIVATIONS, Network
from ..seednet.train import DEFAULTS, TrainResult, accuracy, plot_history, train
from ..validate import fraction, positive_real
from .argtypes import non_negative_int, parse_hidden, positive_int
from .options import add_json_option, json_text

__all__ = ["register", "run"]

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
        default=d["batch_size"],
        metavar="N",
        help="examples a step, >= 1; the ragged last batch of an epoch is kept "
        "(default: %(default)s)",
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


def run(args: argparse.Namespace) -> int:
    """Carry out ``indexnet train``: load, train, evaluate on the test part, report; returns 0."""
    hidden = parse_hidden(args.hidden)
    positive_real("--lr", args.lr)
    fraction("--momentum", args.momentum)
    _check_outputs(args)
    if args.data_dir is not None and args.dataset != "mnist":
        raise InvalidArgumentError("--data-dir is only used with --dataset mnist")
    train_set, val_set, test_set = load_dataset(args.dataset, args.data_dir, seed=args.seed)
    sizes = (train_set.d, *hidden, train_set.n_classes)
    network = Network(
        sizes, activation=args.activation, l2=args.l2, seed=args.seed, dtype=args.dtype
    )
    result = train(
        network,
        train_set,
        val_set,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        seed=args.seed,
        progress=not args.no_progress,
        save=args.save,
    )
    result.test_accuracy = accuracy(network, test_set)
    result.dataset = args.dataset
    if args.plot is not None:
        plot_history(result.history, args.plot)
    counts = {"n_train": len(train_set), "n_val": len(val_set), "n_test": len(test_set)}
    if args.json:
        _print_json(args, result, counts)
    else:
        _print_summary(args, result, counts)
    return 0


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


def _print_json(args: argparse.Namespace, result: TrainResult, counts: dict[str, int]) -> None:
    out = result.to_json()
    out.update(
        activation=args.activation,
        lr=args.lr,
        momentum=args.momentum,
        l2=args.l2,
        batch_size=args.batch_size,
        seed=args.seed,
        dtype=args.dtype,
        **counts,
        save=args.save,
        plot=args.plot,
    )
    print(json_text(out))


def _print_summary(
    args: argparse.Namespace, result: TrainResult, counts: dict[str, int]
) -> None:
    net_name = "-".join(map(str, result.layer_sizes))
    print(
        f"indexnet train: {args.dataset} ({counts['n_train']} train, {counts['n_val']} val, "
        f"{counts['n_test']} test), network {net_name} {args.activation}/softmax"
    )
    print(
        f"  {result.epochs} epochs in {result.seconds:.1f} s (batch {args.batch_size}, "
        f"lr {args.lr}, momentum {args.momentum})"
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
