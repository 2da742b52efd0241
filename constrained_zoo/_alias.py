"""One package under two names: `models` (a checkout's top level) and `constrained_zoo.models`.

From the repository root, `import models` and `python -m training.train`
find the top-level folders first. Left alone, Python would load every
module twice, once under each name: two registries of models, and Keras
refusing the second registration of a serializable class. `alias(top,
canonical)` makes the top-level name a second name of the canonical
package and of every module below it: `sys.modules[top]` becomes the
canonical package, and a finder maps `top.X` to `canonical.X` (for
`python -m top.X`, it hands runpy the canonical module's code).
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `top.X` as the already importable `canonical.X`."""

    def __init__(self, top, canonical):
        self.top, self.canonical = top, canonical
        self._specs = {}  # alias name -> the canonical module's own spec

    def _canonical_name(self, fullname):
        return self.canonical + fullname[len(self.top):]

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.top + "."):
            return None
        real = importlib.util.find_spec(self._canonical_name(fullname))
        if real is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=real.origin,
                                              is_package=real.submodule_search_locations is not None)
        spec.has_location = real.has_location
        return spec

    def create_module(self, spec):
        module = importlib.import_module(self._canonical_name(spec.name))
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        # Already executed under its canonical name; Python has just set its
        # __spec__ to the alias's: give it back its own.
        module.__spec__ = self._specs.pop(module.__spec__.name)

    def get_code(self, fullname):  # `python -m top.X` runs canonical.X's code as __main__
        name = self._canonical_name(fullname)
        return importlib.util.find_spec(name).loader.get_code(name)

    def is_package(self, fullname):
        return importlib.util.find_spec(self._canonical_name(fullname)).submodule_search_locations is not None


def alias(top, canonical):
    """Makes `top` (a top-level package being imported) a second name of `canonical`.

    Call it from `top/__init__.py` when `__name__ == top`; the import then
    returns the canonical package.
    """
    if not any(isinstance(f, _AliasFinder) and f.top == top for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(top, canonical))
    sys.modules[top] = importlib.import_module(canonical)
