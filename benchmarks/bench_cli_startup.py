"""How long the command line takes to answer what needs no model.

Each command runs in a fresh interpreter, as a user types it: ``--version``,
``--help``, ``train --help`` and a mistyped option (a usage error), beside
two references run in the same rounds: an interpreter that does nothing
(``python -c pass``) and one that imports PyTorch, which the commands loaded
before they parsed their arguments. Rounds alternate the order; the best of
``--runs`` is reported, in seconds and as a multiple of the bare interpreter.
"""

import argparse
import subprocess
import sys

from _common import RATIO_NOTE, best_times, print_table

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import torch'": ["-c", "import torch"],
    "sklearn-rnn --version": ["-m", "sklearn_rnn", "--version"],
    "sklearn-rnn --help": ["-m", "sklearn_rnn", "--help"],
    "sklearn-rnn train --help": ["-m", "sklearn_rnn", "train", "--help"],
    "mistyped option": ["-m", "sklearn_rnn", "train", "d.csv", "--max-epoch", "2"],
}


def command_runner(arguments):
    def run():
        subprocess.run([sys.executable, *arguments], capture_output=True, check=False)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default: 5)")
    args = parser.parse_args()
    print("== bench_cli_startup ==")
    print(RATIO_NOTE)
    print()
    functions = {name: command_runner(argv) for name, argv in COMMANDS.items()}
    seconds, _ = best_times(functions, runs=args.runs)
    bare = seconds["python -c pass"]
    rows = [
        {
            "command": name,
            "best s": f"{value:.3f}",
            "x bare interpreter": f"{value / bare:.1f}",
        }
        for name, value in seconds.items()
    ]
    print_table(f"Best of {args.runs} runs", rows)


if __name__ == "__main__":
    main()
