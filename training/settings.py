"""Every training setting, declared once: the table the commands, configs and reports read.

A `Setting` says a setting's name (config.json's key, argparse's `dest`),
its flag, type, default and help, its `kind`, and what a config written
before the setting existed meant by it (`missing_means`). Everything else derives
from `SETTINGS`:

- the parsers of `python -m constrained_zoo.training.train` and `python -m constrained_zoo.training.sweep`
  (`add_arguments`);
- a run's `config.json` `args` (`recorded`), read back with what each
  missing setting meant filled in (`completed`);
- the recipe: the `kind="recipe"` settings, which make a run's result what
  it is apart from the model and the seed. One meaning everywhere: a
  sweep's `recipe.json`, the report's grouping (runs of different recipes
  are never averaged), and resume (`recipe_of`);
- resume's rule (`resume_conflicts`, `applied_changes`): the model, the
  seed and the recipe must stay (the epochs may grow, but not under a
  cosine schedule); execution settings are applied anew and recorded;
- the command that trains a run (`train_command`): for a sweep's child,
  every setting; to reproduce a result (the manifest), the model, the seed
  and the recipe, the settings at their defaults left out.

Kinds: `model` (what is trained: the zoo's name and its overrides), `seed`
(what results are averaged over), `recipe`, and `execution` (where and how
fast a run goes, not what it learns: XLA, steps per execution, determinism,
the distribution strategy, the data folder).

Example:

>>> [s.name for s in SETTINGS if s.kind == "recipe"][:4]
['dataset', 'epochs', 'batch_size', 'learning_rate']
>>> recipe_of({"model": "cnn_small", "seed": 1, "epochs": 20, "jit_compile": True})["epochs"]
20
"""

import dataclasses
import json
import shlex
import sys

from constrained_zoo import arguments
from constrained_zoo.datasets import list_datasets

KINDS = ("model", "seed", "recipe", "execution")
_SAME = object()  # `missing_means` not given: an older config without the setting meant its default


@dataclasses.dataclass(frozen=True)
class Setting:
    """One training setting; see the module docstring.

    Attributes:
        name: config.json's key and argparse's `dest`.
        kind: "model", "seed", "recipe" or "execution".
        default: the value without its flag.
        help: the flag's help.
        type: argparse's `type` (a function of the text), or None for text.
        choices: the values allowed, or None.
        switch: a flag without a value that sets `not default` (`--augment`,
            `--no-deterministic`).
        flag: the command-line flag; default `--NAME-WITH-DASHES`.
        missing_means: what a config written before the setting existed
            meant (default: `default`).
        commands: the commands that take it ("train", "sweep").
        always_in_command: written in a reproduction command even at its
            default.
        argparse: more keyword arguments of `add_argument` (`nargs`, ...).
    """

    name: str
    kind: str
    default: object
    help: str
    type: object = None
    choices: tuple = None
    switch: bool = False
    flag: str = None
    missing_means: object = _SAME
    commands: tuple = ("train", "sweep")
    always_in_command: bool = False
    argparse: dict = dataclasses.field(default_factory=dict)

    @property
    def option(self):
        return self.flag or "--" + self.name.replace("_", "-")

    def __post_init__(self):
        if self.missing_means is _SAME:
            object.__setattr__(self, "missing_means", self.default)

    def words(self, value):
        """The command-line words that give this setting `value` (none for a switch left off)."""
        if self.switch:
            return [self.option] if value != self.default else []
        if self.name == "model_args":
            return [w for key, v in sorted((value or {}).items())
                    for w in ("--model-arg", f"{key}={v if isinstance(v, str) else json.dumps(v)}")]
        if value is None:
            return []
        return [self.option, str(value).lower() if isinstance(value, bool) else str(value)]


SETTINGS = [
    Setting("model", "model", None, "a name from models.list_models()", commands=("train",), always_in_command=True,
             argparse={"required": True}),
    Setting("dataset", "recipe", "fashion_mnist", f"{', '.join(list_datasets())} or a TFDS image-classification name",
             always_in_command=True),
    Setting("epochs", "recipe", 10, "epochs in all (a resumed run goes on to this)", type=arguments.positive_int,
             always_in_command=True),
    Setting("batch_size", "recipe", 128, "global batch size", type=arguments.positive_int, always_in_command=True),
    Setting("learning_rate", "recipe", 1e-3, "Adam's learning rate", type=arguments.positive_float, always_in_command=True),
    Setting("lr_schedule", "recipe", "constant", "constant, or cosine decay from --learning-rate to 0 over --epochs",
             choices=("constant", "cosine")),
    Setting("seed", "seed", 0, "seeds the initialization, the validation split, the data order and augmentation",
             type=arguments.non_negative_int, commands=("train",), always_in_command=True),
    Setting("max_train_examples", "recipe", None, "train on the first N examples left after the validation split",
             type=arguments.positive_int),
    Setting("validation_fraction", "recipe", 0.1, "held out from train, never from test; 0: no validation",
             type=arguments.fraction),
    Setting("augment", "recipe", False, "random translations of the training images", switch=True),
    Setting("flip", "recipe", False,
             "random horizontal flips of the training images (for data whose mirror keeps its class)", switch=True),
    Setting("label_smoothing", "recipe", 0.0, "smooth the one-hot targets: (1 - s)·onehot + s/classes",
             type=arguments.fraction),
    Setting("weight_decay", "recipe", 0.0, "decoupled weight decay (AdamW) of every weight; 0: Adam",
             type=arguments.non_negative_float),
    Setting("teacher", "recipe", None,
             "knowledge distillation from a finished run directory (its saved_model/), trained on this run's "
             "split; {seed} in it stands for the run's seed", argparse={"metavar": "RUN_DIR"}),
    Setting("distill_temperature", "recipe", 4.0, "with --teacher: the temperature of both predictions' softmax",
             type=arguments.positive_float),
    Setting("distill_weight", "recipe", 0.5,
             "with --teacher: the teacher's share of the loss (the labels' is 1 - this)", type=arguments.unit_float),
    Setting("pixel_shuffle", "recipe", False, "one fixed permutation of the pixels", switch=True),
    Setting("shift", "recipe", 0, "shift the test images by this many pixels", type=int),
    Setting("mixed_precision", "recipe", None, "compute in 16 bits (the loss stays float32)",
             choices=("mixed_float16", "mixed_bfloat16")),
    Setting("model_args", "model", None,
             "an argument of the model's builder, repeatable; VALUE is parsed as JSON where it parses "
             "(3, 0.5, true, [32, 64]), else kept as a string", type=arguments.model_arg, flag="--model-arg",
             missing_means={}, argparse={"action": "append", "metavar": "KEY=VALUE"}),
    Setting("jit_compile", "execution", "auto",
             "compile with XLA: auto (Keras's choice: XLA where the model supports it), true or false; "
             "the flag alone means true", type=arguments.jit_compile, missing_means=False,
             argparse={"nargs": "?", "const": True}),
    Setting("steps_per_execution", "execution", 1,
             "train steps per call into the backend (more: less per-step overhead on GPUs)",
             type=arguments.positive_int),
    Setting("validation_points", "execution", None,
             "validate on this many epochs, spread evenly, the last always (default: every epoch); the "
             "training is the same, history.csv leaves the other epochs' validation empty",
             type=arguments.positive_int),
    Setting("checkpoint_seconds", "execution", 0.0,
             "save the checkpoint after an epoch only once this many seconds have passed since the last save "
             "(always after the last epoch and on SIGINT/SIGTERM); 0: after every epoch. A kill loses at most this "
             "much training; the run is the same", type=arguments.non_negative_float),
    Setting("deterministic", "execution", True,
             "--no-deterministic allows non-deterministic ops, faster on some GPUs", switch=True,
             flag="--no-deterministic"),
    Setting("allow_dirty", "execution", False,
             "train from a checkout with uncommitted changes (config.json records the diff's SHA-256); "
             "also CZOO_ALLOW_DIRTY=1", switch=True),
    Setting("strategy", "execution", "default",
             "how to distribute each run: default, mirrored (every local GPU) or multiworker "
             "(TF_CONFIG; train only)", choices=("default", "mirrored", "multiworker")),
    Setting("logical_cpus", "execution", None,
             "split the CPU into this many devices (to try --strategy mirrored without GPUs)",
             type=arguments.positive_int),
    Setting("data_dir", "execution", None, "where to look first for the data files"),
]


def settings(kind=None, command=None):
    """The settings of `kind` (or every kind) that `command` (or any command) takes."""
    return [s for s in SETTINGS if (kind is None or s.kind == kind) and (command is None or command in s.commands)]


def by_name(name):
    """The `Setting` called `name`."""
    for setting in SETTINGS:
        if setting.name == name:
            return setting
    raise KeyError(name)


#: The execution settings a driver (a protocol study, a confirmation) passes on to every run it trains.
PASSED_ON = ("steps_per_execution", "checkpoint_seconds")


def add_passed_on_arguments(parser):
    """Adds `PASSED_ON`'s flags to a driver's argparse `parser`, with their settings' types, defaults and help."""
    for s in map(by_name, PASSED_ON):
        parser.add_argument(s.option, dest=s.name, type=s.type, default=s.default,
                            help=f"passed on to every run: {s.help}")


def passed_on(args):
    """`{name: value}` of `PASSED_ON` in a driver's parsed `args`, for the runs' commands."""
    return {name: getattr(args, name) for name in PASSED_ON}


def add_arguments(parser, command):
    """Adds every setting `command` ("train" or "sweep") takes to an argparse `parser`."""
    for s in settings(command=command):
        if s.switch:
            parser.add_argument(s.option, dest=s.name, action="store_false" if s.default else "store_true",
                                help=s.help)
            continue
        options = {"type": s.type, "default": s.default, "choices": s.choices, "help": s.help, **s.argparse}
        if options.get("required"):
            del options["default"]
        parser.add_argument(s.option, dest=s.name, **{k: v for k, v in options.items() if v is not None})


class SettingsError(ValueError):
    """Settings that contradict each other or a run's, said plainly."""


def normalized(values):
    """`values` (a dict) with `--model-arg`'s `[(key, value), ...]` as a dict; a key given twice is an error."""
    pairs = values.get("model_args")
    if isinstance(pairs, dict):
        return dict(values)
    result = {}
    for key, value in pairs or ():
        if key in result:
            raise SettingsError(f"--model-arg {key} is given twice ({result[key]!r} and {value!r}).")
        result[key] = value
    return {**values, "model_args": result}


def values_of(args, command):
    """The settings `command` ("train" or "sweep") took, from its parsed `args`, `normalized`."""
    return normalized({s.name: getattr(args, s.name) for s in settings(command=command)})


def recorded(values):
    """What config.json's `args` records of a run's `values`: every setting it has."""
    return {s.name: values[s.name] for s in SETTINGS if s.name in values}


def completed(recorded_args):
    """config.json's `args` with every setting it lacks at its `missing_means` (what it meant then)."""
    return {**{s.name: s.missing_means for s in SETTINGS}, **recorded_args}


def recipe_of(values):
    """The recipe of a run or a sweep: its `kind="recipe"` settings, what missing ones meant filled in."""
    values = completed(values)
    return {s.name: values[s.name] for s in settings("recipe")}


def recipe_differences(before, now):
    """`{name: (before, now)}` of the recipe settings two sets of values disagree on."""
    a, b = recipe_of(before), recipe_of(now)
    return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def resume_conflicts(previous, now):
    """What a resumed run may not change: `{name: (before, now)}`; `epochs` is `resume_epochs`'s."""
    before, after = completed(previous), completed(now)
    kept = [s.name for s in SETTINGS if s.kind != "execution" and s.name != "epochs"]
    return {k: (before[k], after[k]) for k in kept if before[k] != after[k]}


def resume_epochs_error(previous, now):
    """Why `now`'s --epochs cannot continue `previous` (a cosine schedule decays over the run's), or None."""
    before, after = completed(previous), completed(now)
    if after["lr_schedule"] == "cosine" and before["epochs"] != after["epochs"]:
        return (f"--lr-schedule cosine decays over the run's --epochs ({before['epochs']}); "
                f"a resumed run must keep it, got --epochs {after['epochs']}.")
    return None


def applied_changes(previous, now):
    """`{name: [before, now]}` of the execution settings a resumed run changes (recorded in config.json)."""
    if not previous:
        return {}
    before, after = completed(previous), completed(now)
    return {s.name: [before[s.name], after[s.name]] for s in settings("execution")
            if before[s.name] != after[s.name]}


def train_command(values, full=False, python=None):
    """The `python -m constrained_zoo.training.train` command of a run, from its settings `values`.

    Args:
        values: a run's settings (config.json's `args`, or a parser's).
        full: every setting `values` has, execution included (what a sweep
            runs); else the model, the seed and the recipe, each left out
            at its default unless `always_in_command` (to reproduce a result).
        python: the interpreter (default: the word `python`).

    Example:

    >>> train_command({"model": "cnn_small", "dataset": "digits", "epochs": 2, "batch_size": 128,
    ...                "learning_rate": 0.001, "seed": 0, "augment": True, "model_args": {"width": 2}})
    'python -m constrained_zoo.training.train --model cnn_small --dataset digits --epochs 2 --batch-size 128 --learning-rate 0.001 --seed 0 --augment --model-arg width=2'
    """
    return shlex.join(train_words(values, full, python))


def train_words(values, full=False, python=None):
    """`train_command`'s words, as a list (for `subprocess`)."""
    words = [python or "python", "-m", "constrained_zoo.training.train"]
    for s in SETTINGS:
        if s.name not in values or (not full and s.kind == "execution"):
            continue
        if full or s.always_in_command or values[s.name] != s.missing_means:
            words += s.words(values[s.name])
    return words


def python_command(module, argv):
    """`sys.executable -m MODULE ARGV...` as one shell-quoted line."""
    return shlex.join([sys.executable, "-m", module, *argv])
