"""The settings that define a run's data split, as one object: `SplitSettings`.

Which examples a run trains, validates and tests on, and how they look, is
fixed by six settings: the dataset, the validation fraction, the cap on
training examples, the seed, the pixel shuffle and the test-time shift. One
frozen `SplitSettings` carries them from the command (`from_config` of its
settings) to the pipeline (`load_dataset(split)`), evaluation, publishing
and the teacher of distillation, which must have trained on the student's
training examples (`differences(other, SplitSettings.TRAINING)`).

The defaults are the settings table's (`training.settings`), and a
config.json written before a setting existed gets what it meant then
(`Setting.missing_means`), so an old run's split is rebuilt as it was.

Example:

>>> split = SplitSettings("digits", seed=3)
>>> split.validation_fraction, split.get_config()["seed"]
(0.1, 3)
>>> SplitSettings.from_config({"dataset": "digits", "seed": 3, "epochs": 5}) == split  # other keys ignored
True
"""

import collections.abc
import dataclasses

import numpy as np

from .. import settings

__all__ = ["SplitSettings", "check_bool", "check_int"]


def check_int(value, name, minimum=None, allow_none=False):
    """`value` as an int >= `minimum`, else an error naming `name` and the value received."""
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected an integer"
            f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an integer >= {minimum}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_bool(value, name):
    """`value` if it is a bool, else a `TypeError` naming `name` and the value received."""
    if not isinstance(value, bool):
        raise TypeError(f"Invalid type for argument `{name}`. Expected a bool. Received: {name}={value!r}")
    return value


def _check_fraction(validation_fraction):
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, (int, float)) \
            or not 0 <= validation_fraction < 1:
        raise ValueError(
            "Invalid value for argument `validation_fraction`. Expected a number in "
            f"[0, 1). Received: validation_fraction={validation_fraction!r}"
        )
    return validation_fraction


def _check_dataset(dataset):
    if not isinstance(dataset, str) or not dataset:
        raise TypeError(
            "Invalid type for argument `dataset`. Expected a dataset name (`training.data.list_datasets()` "
            f"or a TFDS image-classification name). Received: dataset={dataset!r}"
        )
    return dataset


def _default(name):
    return settings.by_name(name).default


@dataclasses.dataclass(frozen=True)
class SplitSettings:
    """The settings that fix a run's train, validation and test examples.

    Args:
        dataset: `"fashion_mnist"`, `"mnist1d"`, `"digits"` or a TFDS
            image-classification name (see `load_arrays`).
        validation_fraction: the share of the training set held out for
            validation, in `[0, 1)`, chosen by a permutation seeded by `seed`.
            The test set is never touched.
        max_train_examples: None, or keep only this many training examples
            (after the validation split is carved, so it is unchanged).
        seed: an int >= 0; seeds the validation split (and, in
            `load_dataset`, the order of every epoch and the augmentation).
        pixel_shuffle: permute the spatial positions of every image of every
            split with one fixed permutation (`variants.pixel_permutation`,
            seeded by its own constant, not by `seed`).
        shift: shift the TEST images by this many pixels along the width
            (images) or length (sequences), zero fill, positive to the right;
            train and validation are untouched. Its bound depends on the
            images: `load_dataset` checks it.

    Raises:
        TypeError, ValueError: for an invalid value, naming the argument and
            the value received.

    Example:

    >>> SplitSettings("mnist1d", pixel_shuffle=True).differences(SplitSettings("mnist1d"))
    {'pixel_shuffle': (True, False)}
    """

    dataset: str = _default("dataset")
    validation_fraction: float = _default("validation_fraction")
    max_train_examples: object = _default("max_train_examples")
    seed: int = _default("seed")
    pixel_shuffle: bool = _default("pixel_shuffle")
    shift: int = _default("shift")

    #: The settings that decide the training and validation examples (`shift` changes the test images only).
    TRAINING = ("dataset", "seed", "validation_fraction", "max_train_examples", "pixel_shuffle")

    def __post_init__(self):
        checked = {
            "dataset": _check_dataset(self.dataset),
            "validation_fraction": _check_fraction(self.validation_fraction),
            "max_train_examples": check_int(self.max_train_examples, "max_train_examples", 1, allow_none=True),
            "seed": check_int(self.seed, "seed", 0),
            "pixel_shuffle": check_bool(self.pixel_shuffle, "pixel_shuffle"),
            "shift": check_int(self.shift, "shift"),
        }
        for name, value in checked.items():  # numpy integers become ints, so that the config is JSON
            object.__setattr__(self, name, value)

    @classmethod
    def fields(cls):
        """The names of the settings, in order.

        Example:

        >>> SplitSettings.fields()[:2]
        ('dataset', 'validation_fraction')
        """
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_config(cls, config):
        """The split of a run's settings: config.json's `args`, a command's settings or a manifest's `evaluation`.

        Args:
            config: a mapping from setting names to values. Other keys are
                ignored; a missing setting takes what a config written
                before it existed meant (`Setting.missing_means`).

        Raises:
            TypeError: if `config` is not a mapping.
            TypeError, ValueError: for an invalid value, naming the setting.

        Example:

        >>> SplitSettings.from_config({"dataset": "mnist1d", "seed": 2, "batch_size": 100}).seed
        2
        """
        if not isinstance(config, collections.abc.Mapping):
            raise TypeError(f"Invalid type for argument `config`. Expected a mapping of settings (config.json's "
                            f"`args`). Received: config={config!r}")
        return cls(**{name: config[name] if name in config else settings.by_name(name).missing_means
                      for name in cls.fields()})

    def get_config(self):
        """The settings as a dict of JSON values; `from_config` reads it back.

        Example:

        >>> SplitSettings("digits").get_config()["dataset"]
        'digits'
        """
        return {name: getattr(self, name) for name in self.fields()}

    def differences(self, other, fields=None):
        """`{name: (self's value, other's value)}` of the settings two splits disagree on.

        Args:
            other: a `SplitSettings`.
            fields: the settings compared (default: every one);
                `SplitSettings.TRAINING` compares the training examples.

        Example:

        >>> SplitSettings(shift=2).differences(SplitSettings(), SplitSettings.TRAINING)
        {}
        """
        if not isinstance(other, SplitSettings):
            raise TypeError(f"Invalid type for argument `other`. Expected a SplitSettings. Received: other={other!r}")
        return {name: (getattr(self, name), getattr(other, name)) for name in (fields or self.fields())
                if getattr(self, name) != getattr(other, name)}
