"""The user documentation runs: every snippet, every command's flags, every link.

The documents are every *.md at the root (README.md, BENCHMARKS.md,
CHANGELOG.md) and docs/*.md. The rules:

- Every ```python block runs, with `exec` in a fresh namespace, in this
  process (TensorFlow is imported once), the current directory a temporary
  one. Files a block names are made first: `shoe.png` (a dark shoe on a light
  background, with Pillow) and `old.h5` (a tf-keras model with a
  LocallyConnected2D layer). A block that trains for more than a few seconds
  is preceded by `<!-- slow -->` and runs only in `make test-slow`
  (pytest.mark.slow).
- Every line of a ```bash or ```console block that runs `python -m MODULE`
  or a `czoo-*` console script is given to the tool's own argument parser,
  which is stopped right after parsing: flag names, choices and value types
  are checked, nothing is trained. `$VARIABLE`s are read as 0 (so that
  `--shard "$SLURM_ARRAY_TASK_ID/8"` parses), a leading `NAME=value` is an
  environment assignment, `...` on a line (an elided command) leaves only
  its flag names to check against `--help`. What the commands print is
  checked where it is pasted: such output is a generated block
  (`python -m constrained_zoo.training.readme`, tests/training/test_readme.py).
- Every `czoo-*` command is a console script setup.cfg declares, and every
  extra the install block names exists.
- No issue numbers (`#12`; `owner/repo#12` names another project's issue
  and is allowed) and no "issue" or "session" in the documents or in the
  docstrings of constrained_layers/, models/ and training/; no lab-diary
  phrasing in the documents ("the next attempt", "called for", "ran at
  once", "before this change", "so far": the documents say what is, the
  CHANGELOG what changed).
- Every relative link resolves, anchors included; every figure of the
  README's prose (0.9053, 9,106) appears in a generated block.
"""

import argparse
import ast
import configparser
import contextlib
import glob
import importlib
import importlib.util
import io
import os
import re
import shlex
import sys
import types

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTS = [*sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "*.md"))),
             *sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
#: Console scripts and the modules whose main() they run (constrained_zoo/commands.py).
CONSOLE_SCRIPTS = {"czoo-train": "constrained_zoo.training.train", "czoo-sweep": "constrained_zoo.training.sweep",
                   "czoo-evaluate": "constrained_zoo.training.evaluate",
                   "czoo-publish": "constrained_zoo.training.publishing.publish",
                   "czoo-predict": "constrained_zoo.models.predict",
                   "czoo-params": "constrained_layers.params"}


def read(name):
    with open(os.path.join(REPO, name), encoding="utf-8") as f:
        return f.read()


def blocks(name, languages):
    """(line number, language, code, slow) of each fenced block of `name` in `languages`."""
    text = read(name)
    found = []
    for match in FENCE.finditer(text):
        if match[1] not in languages:
            continue
        before = text[:match.start()].rstrip().splitlines()
        slow = bool(before) and before[-1].strip() == "<!-- slow -->"
        found.append((text[:match.start()].count("\n") + 1, match[1], match[2], slow))
    return found


def _id(name, line):
    return f"{name}:{line}"


# --- python blocks -----------------------------------------------------------------------------

PYTHON_BLOCKS = [(name, line, code, slow) for name in DOCUMENTS
                 for line, _, code, slow in blocks(name, {"python"})]


#: A block preceded by this line runs under KERAS_BACKEND=torch, all of its document's such blocks
#: in order in one fresh process (tests/test_pytorch_docs.py), not here.
TORCH_MARK = "<!-- torch -->"


def torch_blocks(name):
    """The code of `name`'s python blocks marked TORCH_MARK, in order."""
    text = read(name)
    return [m[2] for m in FENCE.finditer(text)
            if m[1] == "python" and text[:m.start()].rstrip().endswith(TORCH_MARK)]


def _python_params():
    for name, line, code, slow in PYTHON_BLOCKS:
        if code in torch_blocks(name):
            continue
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(code, id=_id(name, line), marks=marks)


def write_shoe(path):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 64), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon([(10, 48), (10, 22), (30, 20), (46, 36), (86, 42), (86, 54), (10, 54)], fill=(40, 30, 20))
    image.save(path)


def write_old_h5(path):
    tf_keras = pytest.importorskip("tf_keras")
    model = tf_keras.Sequential([
        tf_keras.Input((8, 8, 1)),
        tf_keras.layers.LocallyConnected2D(2, 3, implementation=1),
        tf_keras.layers.Flatten(),
        tf_keras.layers.Dense(3),
    ])
    model.save(path)


FILES = {"shoe.png": write_shoe, "old.h5": write_old_h5}


@pytest.mark.parametrize("code", _python_params())
def test_python_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for file, write in FILES.items():
        if file in code:
            write(tmp_path / file)
    exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})  # pylint: disable=exec-used


# --- commands ----------------------------------------------------------------------------------

def commands(name):
    """(line, argv) of every `python -m` or `czoo-*` command in the shell blocks of `name`."""
    found = []
    for line, _, code, _ in blocks(name, {"bash", "console", "sh", "shell"}):
        for offset, text in enumerate(code.replace("\\\n", " ").splitlines()):
            text = text.strip().removeprefix("$ ")
            argv = shlex.split(re.sub(r"\$\{?(\w+)\}?", "0", text), comments=True)
            while argv and re.match(r"^\w+=", argv[0]):
                argv = argv[1:]  # an environment assignment
            if argv[:2] == ["python", "-m"] and len(argv) > 2 or argv and argv[0].startswith("czoo-"):
                found.append((line + 1 + offset, argv))
    return found


def console_scripts():
    """setup.cfg's console scripts, {name: "module:function"}."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO, "setup.cfg"))
    text = parser.get("options.entry_points", "console_scripts", fallback="")
    return {name.strip(): target.strip()
            for name, _, target in (line.partition("=") for line in text.splitlines() if "=" in line)}


COMMANDS = [(name, line, argv) for name in DOCUMENTS for line, argv in commands(name)]


def _command_params():
    for name, line, argv in COMMANDS:
        yield pytest.param(argv, id=_id(name, line) + ":" + argv[0 if argv[0].startswith("czoo-") else 2])


class _Parsed(Exception):
    """Raised by the patched parse_args once the tool's parser accepted the command."""


def _main_of(module_name):
    module = importlib.import_module(module_name)
    if hasattr(module, "__path__"):  # a package: python -m runs its __main__
        module = importlib.import_module(module_name + ".__main__")
    return module.main


@pytest.mark.parametrize("argv", _command_params())
def test_command_parses(argv, monkeypatch):
    if argv[0].startswith("czoo-"):
        module, args = CONSOLE_SCRIPTS[argv[0]], argv[1:]
    else:
        module, args = argv[2], argv[3:]
    main = _main_of(module)
    if "..." in args:  # an elided command: its flags must exist
        help_text = io.StringIO()
        with contextlib.redirect_stdout(help_text), pytest.raises(SystemExit):
            main(["--help"])
        flags = {a.split("=")[0] for a in args if a.startswith("--")}
        assert not [f for f in flags if f not in help_text.getvalue()], f"{argv}: flags not in --help"
        return
    original = argparse.ArgumentParser.parse_args

    def parse_args(self, args=None, namespace=None):
        raise _Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            main(args)
        except _Parsed:
            return
        except SystemExit as exit:
            pytest.fail(f"{shlex.join(argv)}: the parser refused it (exit {exit.code}): {errors.getvalue()}")
    pytest.fail(f"{shlex.join(argv)}: returned without parsing arguments")


def test_every_console_script_is_declared(monkeypatch):
    """Each script setup.cfg declares runs, quietly, the main() of the module CONSOLE_SCRIPTS names."""
    from constrained_zoo import commands

    used = {argv[0] for _, _, argv in COMMANDS if argv[0].startswith("czoo-")}
    assert used <= set(console_scripts()) == set(CONSOLE_SCRIPTS)
    ran = []
    monkeypatch.setattr(commands, "_run", ran.append)
    for name, target in console_scripts().items():
        module, _, function = target.partition(":")
        assert module == "constrained_zoo.commands", target
        getattr(commands, function)()
        assert ran[-1] == CONSOLE_SCRIPTS[name], (name, ran[-1])


def test_the_install_extras_exist():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO, "setup.cfg"))
    declared = set(parser["options.extras_require"]) if parser.has_section("options.extras_require") else set()
    named = set()
    for _, _, code, _ in blocks("README.md", {"bash"}):
        if "pip install" in code:  # the install block: its commands and comments name the extras
            named |= {extra for group in re.findall(r"\[([a-z,]+)\]", code) for extra in group.split(",")}
    assert named >= {"jax", "tensorflow", "images", "train", "test"}
    assert named <= declared


# --- words, links, figures ---------------------------------------------------------------------

FORBIDDEN = re.compile(r"(?<![\w/.-])#\d+|\bissues?\b|\bsessions?\b", re.I)
#: How a lab diary talks (what was tried when, by whom), not how documentation does.
DIARY = re.compile(r"\bnext attempts?\b|\bcalled for\b|\bran at once\b|\bbefore this (?:change|commit|version)\b"
                   r"|\bso far\b|\b(?:yesterday|today|last night|this morning)\b|\b(?:we|I) (?:tried|ran|then)\b"
                   r"|\bfor now\b|\bTODO\b", re.I)


def _code_free(text):
    return FENCE.sub("", text)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_issue_numbers_or_sessions_in_the_documents(name):
    found = [(text[:m.start()].count("\n") + 1, m[0]) for text in [read(name)] for m in FORBIDDEN.finditer(text)]
    assert not found, f"{name}: user documentation names issues or sessions (lines, words): {found}"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_lab_diary_in_the_documents(name):
    found = [(text[:m.start()].count("\n") + 1, m[0]) for text in [read(name)] for m in DIARY.finditer(text)]
    assert not found, f"{name}: lab-diary phrasing (lines, words): {found}"


def test_the_word_rules_catch_what_they_are_for():
    assert FORBIDDEN.search("as issue #5 defines it") and FORBIDDEN.search("(#12)")
    assert not FORBIDDEN.search("tensorflow/datasets#11212")
    assert DIARY.search("the next attempt it called for") and DIARY.search("two copies of the command ran at once")
    assert not DIARY.search("the next layer is called once")


def test_every_root_document_is_checked():
    assert {"README.md", "BENCHMARKS.md", "CHANGELOG.md"} <= set(DOCUMENTS)


def test_no_issue_numbers_or_sessions_in_docstrings():
    found = []
    for package in ("constrained_layers", "models", "training"):
        for path in sorted(glob.glob(os.path.join(REPO, package, "**", "*.py"), recursive=True)):
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node, clean=False) or ""
                    found += [f"{os.path.relpath(path, REPO)}:{getattr(node, 'name', '<module>')}: {m[0]!r}"
                              for m in FORBIDDEN.finditer(doc)]
    assert not found, "docstrings name issues or sessions:\n" + "\n".join(found)


def slug(heading):
    """GitHub's anchor of a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(name):
    return {slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", _code_free(read(name)), re.M)}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_relative_links_resolve(name):
    folder = os.path.dirname(os.path.join(REPO, name))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _code_free(read(name))):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(folder, path)) if path else os.path.join(REPO, name)
        if not os.path.exists(full):
            broken.append(target)
        elif anchor and full.endswith(".md") and anchor not in anchors(os.path.relpath(full, REPO)):
            broken.append(target)
    assert not broken, f"{name}: broken links {broken}"


def _generated_text():
    out = []
    for name in DOCUMENTS:
        out += re.findall(r"^<!-- generated: .*?^<!-- /generated -->$", read(name), re.S | re.M)
    return "\n".join(out)


def test_the_readmes_figures_come_from_generated_blocks():
    prose = re.sub(r"^<!-- generated: .*?^<!-- /generated -->$", "", _code_free(read("README.md")), flags=re.S | re.M)
    figures = set(re.findall(r"\b\d\.\d{4}\b|\b\d{1,3}(?:,\d{3})+\b", prose))
    generated = _generated_text()
    assert figures, "the README's findings quote no figure"
    assert not [f for f in figures if f not in generated], "README figures found in no generated block"


def test_every_public_layer_is_documented():
    import keras

    import constrained_layers

    text = read("docs/layers.md")
    layers = [name for name in constrained_layers.__all__
              if isinstance(getattr(constrained_layers, name), type)
              and issubclass(getattr(constrained_layers, name), keras.layers.Layer)]
    assert layers and not [name for name in layers if f"`{name}" not in text]


def test_the_version_has_a_changelog_entry():
    import constrained_layers

    changelog = read("CHANGELOG.md")
    version = constrained_layers.__version__
    released = re.sub(r"\.dev\d+$", "", version)
    assert f"## [{released}]" in changelog or (version != released and "## [Unreleased]" in changelog)
    assert read("CITATION.cff").count(f"version: {version}") == 1
