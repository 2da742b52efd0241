"""A study's protocol: everything that decides its outcome, fixed in a file before any of its runs.

A referee's first question of a comparison is whether the comparison was
fixed before its outcome was seen. A protocol file answers it: it is
committed before the study's first run (git history shows the order), and
`python -m constrained_zoo.training.sample_efficiency --protocol FILE` takes every setting
from it, so the runs cannot drift from what was written. The file is JSON:

    {
      "study": "mnist1d_10k",
      "question": "what locality, sharing and the spatial prior buy as data shrink",
      "dataset": "mnist1d",
      "budget": 10000,
      "models": ["mlp_1d_small", "lc1d_small", "lrlc1d_r4_10k", "sharedconv1d_base", "cnn1d_base"],
      "sizes": [3600, 500, 2000, 1000],
      "steps": 4320, "batch_size": 100, "lr_schedule": "cosine",
      "rates": [0.001, 0.003, 0.01],
      "ladder": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
      "seeds": 5,
      "selection": "final_val_accuracy",
      "conditions": {"true order": {"pixel_shuffle": false, "out": "results/protocol/mnist1d_10k"},
                     "shuffled": {"pixel_shuffle": true, "out": "results/protocol/mnist1d_10k_shuffled"}},
      "interval": 0.95,
      "targets": [0.6, 0.7, 0.8, 0.9],
      "notes": ["why this many steps", "what was dropped and why"]
    }

Two optional fields serve studies that compare variants of one model:

    "variants": {"lrlc1d_r4_10k+softmax": {"model": "lrlc1d_r4_10k",
                                           "overrides": {"mixing_normalization": "softmax"}}},
    "comparisons": [{"a": "lrlc1d_r4_10k+softmax", "b": "cnn1d_strided", "role": "primary", "sizes": [3600]}]

and one saves time: `"validation_points": 100` validates 100 epochs of each
run, spread evenly with the last always among them, instead of every epoch
(at 1,000 examples a run of 6,330 steps has 791 epochs).

A name in `models` is a zoo model or a variant: a zoo model with fixed
overrides (`width` is left to the budget). Without `comparisons` the
report differences the chapter's groups (one model each); with them it
reports exactly the pairs listed, `a - b`, each at its `sizes` (default:
all), labelled primary or exploratory as the file says.

The rules the fields stand for (`Protocol`'s docstring says each):

- Budget: each model's width is the one whose model holds the nearest
  number of weights, every weight counted (Keras's `count_params`).
- Every size trains for `steps` optimizer steps, `lr_schedule` over them;
  nothing stops early; the model reported is the last step's.
- Rate: every seed trains at every rate of `rates`; per (condition, model,
  size) the rate of best `selection` (mean over the seeds) is chosen. When
  an edge of the rates tried wins, the next rate of `ladder` beyond it is
  added (every seed) and the choice made again, until an inner rate wins
  or the ladder ends (then the edge is reported as such).
- Reported: the chosen rate's test accuracy over the seeds; every
  comparison as a mean difference paired by seed with its `interval`
  t-interval, "not resolved" where it covers zero.
"""

import dataclasses
import json
import math

#: What a protocol may select on: the last epoch's validation accuracy, the
#: figure of the very model whose test accuracy is reported.
SELECTIONS = ("final_val_accuracy",)
SCHEDULES = ("constant", "cosine")
#: Fields a protocol file may leave out.
OPTIONAL = {"notes", "targets", "budget", "analysis", "variants", "comparisons", "validation_points"}
#: What a comparison may be: the confirmatory test(s) fixed in advance, or labelled exploration.
ROLES = ("primary", "exploratory")


class ProtocolError(ValueError):
    """A protocol file that cannot be followed, said plainly."""


@dataclasses.dataclass(frozen=True)
class Condition:
    """One arm of a study: the data as it is, or a control. `out`: its results folder."""

    name: str
    pixel_shuffle: bool
    out: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One difference the report makes, `a - b` paired by seed, at `sizes`; `role`: "primary" or "exploratory"."""

    a: str
    b: str
    role: str
    sizes: tuple


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A study's protocol, read from its file (see the module docstring).

    Attributes:
        study: the study's name.
        question: what the study asks, in a sentence.
        dataset: the dataset's name.
        budget: the number of weights each model is scaled to (None: as registered).
        models: the zoo's model names.
        sizes: training-set sizes, in the order they are run.
        steps: optimizer steps at every size.
        batch_size: the batch size.
        lr_schedule: "constant" or "cosine" (to 0 over the steps).
        rates: the learning rates every seed trains at first (at least 3).
        ladder: the rates an edge may be extended to, sorted; holds `rates`
            as consecutive rungs.
        seeds: seeds 0..seeds-1 of every run (at least 3).
        selection: the validation statistic that chooses the rate.
        conditions: the arms, first the data as it is.
        interval: the confidence level of every interval.
        targets: accuracies for "examples needed".
        analysis: the comparisons the report makes, in words, fixed with the rest.
        variants: `{name: (zoo model, overrides)}`: the names of `models` that are not zoo names.
        comparisons: the `Comparison`s the report makes (empty: the chapter's groups).
        notes: the protocol's reasons in words (steps, what was dropped).
        validation_points: validate on this many epochs of each run, spread
            evenly, the last always (None: every epoch). Validation does not
            touch the training; it saves the time of validating every one of
            the hundreds of epochs a small training set makes.
        path: the file read.
    """

    study: str
    question: str
    dataset: str
    budget: object
    models: tuple
    sizes: tuple
    steps: int
    batch_size: int
    lr_schedule: str
    rates: tuple
    ladder: tuple
    seeds: int
    selection: str
    conditions: tuple
    interval: float
    targets: tuple
    analysis: tuple
    variants: dict
    comparisons: tuple
    notes: tuple
    validation_points: object = None
    path: str = ""

    def zoo_model(self, name):
        """`(zoo model, overrides)` of a name of `models`: a variant's model and overrides, or `(name, {})`."""
        model, overrides = self.variants.get(name, (name, {}))
        return model, dict(overrides)

    def condition(self, name):
        """The condition called `name`."""
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise ProtocolError(f"{self.path}: no condition {name!r}; it has {[c.name for c in self.conditions]}.")

    def epochs_for(self, size):
        """Epochs of a `size`-example subset that make `steps` optimizer steps (at least that many)."""
        return math.ceil(self.steps / math.ceil(size / self.batch_size))


def _require(condition, path, message):
    if not condition:
        raise ProtocolError(f"{path}: {message}")


def _positive_ints(values, path, key):
    _require(isinstance(values, list) and values and all(isinstance(v, int) and v > 0 for v in values),
             path, f"`{key}` must be a non-empty list of positive integers; received {key}={values!r}.")
    return tuple(values)


def from_dict(data, path="<protocol>"):
    """A `Protocol` from the parsed JSON; `ProtocolError` naming the field and the value received."""
    fields = {f.name for f in dataclasses.fields(Protocol)} - {"path"}
    unknown, missing = sorted(set(data) - fields), sorted(fields - set(data) - OPTIONAL)
    _require(not unknown, path, f"unknown field(s) {unknown}; a protocol has {sorted(fields)}.")
    _require(not missing, path, f"missing field(s) {missing}.")
    rates, ladder = data["rates"], data["ladder"]
    for key, values in (("rates", rates), ("ladder", ladder)):
        _require(isinstance(values, list) and all(isinstance(v, (int, float)) and v > 0 for v in values)
                 and values == sorted(values) and len(set(values)) == len(values), path,
                 f"`{key}` must be increasing positive numbers; received {key}={values!r}.")
    _require(len(rates) >= 3, path, f"`rates` needs at least 3 learning rates; received rates={rates!r}.")
    _require(all(r in ladder for r in rates) and ladder[ladder.index(rates[0]):][:len(rates)] == rates, path,
             f"`rates` must be consecutive rungs of `ladder`; received rates={rates!r}, ladder={ladder!r}.")
    _require(isinstance(data["seeds"], int) and data["seeds"] >= 3, path,
             f"`seeds` must be an integer >= 3; received seeds={data['seeds']!r}.")
    _require(data["selection"] in SELECTIONS, path,
             f"`selection` must be one of {SELECTIONS}; received selection={data['selection']!r}.")
    _require(data["lr_schedule"] in SCHEDULES, path,
             f"`lr_schedule` must be one of {SCHEDULES}; received lr_schedule={data['lr_schedule']!r}.")
    _require(isinstance(data["interval"], float) and 0.5 <= data["interval"] < 1, path,
             f"`interval` must be a confidence level in [0.5, 1); received interval={data['interval']!r}.")
    conditions = data["conditions"]
    _require(isinstance(conditions, dict) and conditions and all(
        isinstance(c, dict) and set(c) == {"pixel_shuffle", "out"} for c in conditions.values()), path,
        "`conditions` must map names to {\"pixel_shuffle\": bool, \"out\": folder}; "
        f"received conditions={conditions!r}.")
    outs = [c["out"] for c in conditions.values()]
    _require(len(set(outs)) == len(outs), path, f"every condition needs its own `out`; received {outs}.")
    budget = data.get("budget")
    _require(budget is None or (isinstance(budget, int) and budget > 0), path,
             f"`budget` must be a positive integer or null; received budget={budget!r}.")
    for key in ("steps", "batch_size"):
        _require(isinstance(data[key], int) and data[key] > 0, path,
                 f"`{key}` must be a positive integer; received {key}={data[key]!r}.")
    models = data["models"]
    _require(isinstance(models, list) and models and all(isinstance(m, str) for m in models)
             and len(set(models)) == len(models), path,
             f"`models` must be a non-empty list of distinct names; received models={models!r}.")
    points = data.get("validation_points")
    _require(points is None or (isinstance(points, int) and not isinstance(points, bool) and points >= 2), path,
             f"`validation_points` must be an integer >= 2 or null; received validation_points={points!r}.")
    variants = _variants(data.get("variants", {}), path)
    comparisons = _comparisons(data.get("comparisons", []), data["models"], data["sizes"], path)
    return Protocol(
        study=str(data["study"]), question=str(data["question"]), dataset=str(data["dataset"]), budget=budget,
        models=tuple(data["models"]), sizes=_positive_ints(data["sizes"], path, "sizes"), steps=data["steps"],
        batch_size=data["batch_size"], lr_schedule=data["lr_schedule"], rates=tuple(rates), ladder=tuple(ladder),
        seeds=data["seeds"], selection=data["selection"],
        conditions=tuple(Condition(name, bool(c["pixel_shuffle"]), c["out"]) for name, c in conditions.items()),
        interval=data["interval"], targets=tuple(data.get("targets", ())), analysis=tuple(data.get("analysis", ())),
        variants=variants, comparisons=comparisons, notes=tuple(data.get("notes", ())),
        validation_points=points, path=path)


def _variants(variants, path):
    """`{name: (model, overrides)}` from the file's `variants`, checked."""
    _require(isinstance(variants, dict) and all(
        isinstance(v, dict) and set(v) == {"model", "overrides"} and isinstance(v["model"], str)
        and isinstance(v["overrides"], dict) and v["overrides"] for v in variants.values()), path,
        "`variants` must map names to {\"model\": zoo name, \"overrides\": {non-empty}}; "
        f"received variants={variants!r}.")
    for name, variant in variants.items():
        _require("width" not in variant["overrides"], path,
                 f"variant {name!r} sets `width`, which the budget chooses; received {variant['overrides']!r}.")
        _require(name != variant["model"], path, f"variant {name!r} must not take its zoo model's name.")
    return {name: (v["model"], dict(v["overrides"])) for name, v in variants.items()}


def _comparisons(comparisons, models, sizes, path):
    """The file's `comparisons` as `Comparison`s, each naming two of `models` and some of `sizes`."""
    _require(isinstance(comparisons, list), path, f"`comparisons` must be a list; received {comparisons!r}.")
    found = []
    for c in comparisons:
        _require(isinstance(c, dict) and {"a", "b", "role"} <= set(c) <= {"a", "b", "role", "sizes"}, path,
                 f"a comparison is {{\"a\", \"b\", \"role\"[, \"sizes\"]}}; received {c!r}.")
        _require(c["a"] in models and c["b"] in models and c["a"] != c["b"], path,
                 f"a comparison names two different entries of `models`; received a={c['a']!r}, b={c['b']!r}.")
        _require(c["role"] in ROLES, path, f"a comparison's `role` is one of {ROLES}; received role={c['role']!r}.")
        chosen = c.get("sizes", list(sizes))
        _require(isinstance(chosen, list) and chosen and set(chosen) <= set(sizes), path,
                 f"a comparison's `sizes` are some of `sizes` {sizes}; received sizes={chosen!r}.")
        found.append(Comparison(c["a"], c["b"], c["role"], tuple(sorted(chosen))))
    return tuple(found)


def load(path):
    """The `Protocol` in the JSON file `path`.

    Raises:
        ProtocolError: the file is missing, is not JSON, or a field is wrong.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as error:
        raise ProtocolError(f"cannot read the protocol {path!r}: {error.strerror or error}.") from None
    except json.JSONDecodeError as error:
        raise ProtocolError(f"{path}: not JSON ({error}).") from None
    _require(isinstance(data, dict), path, f"expected a JSON object; received {type(data).__name__}.")
    return from_dict(data, path)


def next_rate(ladder, tried, chosen):
    """The rate to add when `chosen` is an edge of `tried`, or None (an inner rate won, or the ladder ends).

    Example:

    >>> next_rate((0.001, 0.003, 0.01, 0.03), (0.001, 0.003, 0.01), 0.01)
    0.03
    >>> next_rate((0.001, 0.003, 0.01, 0.03), (0.001, 0.003, 0.01), 0.003) is None
    True
    """
    tried = sorted(tried)
    if chosen == tried[-1] and ladder.index(chosen) + 1 < len(ladder):
        return ladder[ladder.index(chosen) + 1]
    if chosen == tried[0] and ladder.index(chosen) > 0:
        return ladder[ladder.index(chosen) - 1]
    return None
