"""The documentation's tables, generated from the code and the results folders.

    python -m constrained_zoo.training.readme           # exit 1 and a diff if a document differs from what the code and results give
    python -m constrained_zoo.training.readme --write   # rewrite the generated blocks of every document (atomically)
    python -m constrained_zoo.training.readme --readme PATH [--write]   # one file only, paths relative to its folder

The documents and the blocks each must hold are `DOCUMENTS` (README.md and
docs/*.md, paths relative to the repository's root).

A generated block is the text between a marker line and the next
`<!-- /generated -->` line; the marker says what goes there:

    <!-- generated: zoo -->                                    python -m constrained_zoo.models (weights, trainable)
    <!-- generated: weights -->                                models/weights/manifest.json
    <!-- generated: results results/mnist1d -->                that folder's results.md table, from its runs
    <!-- generated: compare results/mnist1d results/mnist1d_shuffled -->   training.report --compare
    <!-- generated: budgets results/fashion_mnist 5000,10000 -->           training.report --budgets
    <!-- generated: shift results/fashion_mnist 0,1,2,3,4,6 -->            training.shift, from each run's shift.json
    <!-- generated: shift_families results/fashion_mnist 1,2,6 A-B,... -->   family against family, Welch intervals
    <!-- generated: lr_grid results/a,results/b cnn_base,lc_small(width=1.5) -->   training.lr_grid (labels without spaces)
    <!-- generated: recipes results/a,results/b cnn_bn_50k -->             training.lr_grid.recipe_choice
    <!-- generated: sample_efficiency results/sample_efficiency/mnist1d_10k 0.6,0.7 -->   training.sample_efficiency's tables
    <!-- generated: control results/sample_efficiency/a results/sample_efficiency/a_shuffled -->   true order minus control, paired
    <!-- generated: protocol results/studies/mnist1d_10k/protocol.json -->   its report once complete, else its progress
    <!-- generated: confirmation results/frontier_confirmation/protocol.json -->   progress, then the table
    <!-- generated: frontier mnist1d -->                     each goal of results/frontier_goals.json, the public figure beside
    <!-- generated: goals mnist1d -->                        that dataset's goals in one sentence (the same file)
    <!-- generated: differences results/mnist1d lc1d_small-mlp_1d_small -->   paired differences (sweeps/claims.py)
    <!-- generated: curves results/mnist1d_frontier_search/table_w0.6 -->   how each run's training ended (history.csv)
    <!-- generated: command python -m constrained_layers.params --delta 2 -->   that command's output (fast, deterministic)
    <!-- generated: status -->, <!-- generated: reproduce FOLDER OUT PATTERNS -->, <!-- generated: published -->
                                                 the README's own blocks (training/front_page.py)

Everything outside the blocks (the prose) is left as it is.
`tests/training/test_readme.py` fails when a document drifts from the code
or the results: after a sweep, a re-run or a change of a model, run
`python -m constrained_zoo.training.readme --write`.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import contextlib
import difflib
import io
import os
import re
import runpy
import sys

from constrained_zoo.atomic import write_text
from constrained_zoo.markdown import markdown_table

from . import front_page
from .sweeps import claims, frontier, protocol_findings, protocol_report

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")
#: Each document with generated blocks (relative to REPO) and the kinds of block it must hold.
DOCUMENTS = {
    "README.md": ("status", "budgets", "reproduce"),
    "docs/layers.md": ("command",),
    "docs/zoo.md": ("zoo", "published", "weights"),
    "docs/results.md": ("results", "compare", "budgets", "lr_grid", "recipes", "shift", "sample_efficiency",
                        "frontier", "goals", "differences"),
}
BEGIN = re.compile(r"^<!-- generated: (?P<spec>[^>]*?) -->$")
END = "<!-- /generated -->"


class ReadmeError(ValueError):
    """A marker that cannot be generated, named with its line."""


def _zoo(root):
    from constrained_zoo.models.__main__ import zoo_table

    return zoo_table() + "\n"


def _weights(root):
    from constrained_zoo.models import weights

    entries = weights.published_weights()
    if not entries:
        return ("Published weights: none yet. `models.create_model(name, weights=DATASET)` loads them once "
                "`python -m constrained_zoo.training.publishing RUN_DIR` has written them.\n")
    rows = []
    for w in entries:
        overrides = ", ".join(f"{k}={v}" for k, v in sorted((w.get("overrides") or {}).items())) or "—"
        val = w.get("validation_accuracy")
        clean = bool(w.get("commit")) and w.get("commit_dirty") is False
        commit = f"`{w['commit'][:12]}`" if clean else ("†" + (f" `{w['commit'][:12]}` + edits" if w.get("commit") else ""))
        rows.append([w["model"], weights.weights_name(w), overrides, f"{w['test_accuracy']:.4f}",
                     "—" if val is None else f"{val:.4f}", w["seed"], f"{w['bytes'] / 1024:,.0f} KB", commit,
                     f"`{w['command']}`"])
    header = ["model", "weights", "overrides", "test accuracy", "validation accuracy", "seed", "size", "commit",
              "trained by"]
    lines = ["Published weights: `models.create_model(name, weights=WEIGHTS)`; re-check one in seconds with "
             "`python -m constrained_zoo.training.evaluate --model NAME --weights WEIGHTS`.", "",
             markdown_table(header, rows, right=(3, 4, 5, 6)), "", "Commit: the one the weights' run was trained from. †: no clean commit (trained from a checkout "
              "with uncommitted changes, or none recorded): its code cannot be checked out exactly."]
    return "\n".join(lines) + "\n"


def _rows(root, folder):
    from .sweeps import results

    path = os.path.join(root, folder, "runs")
    if not os.path.isdir(path):
        raise ReadmeError(f"{folder!r} has no runs/ folder")
    return results.summarize(results.collect(path))


def _results(root, folder):
    from .sweeps import results

    return results.to_markdown(_rows(root, folder))


def _compare(root, base, variant):
    from .sweeps import results

    return results.compare(os.path.join(root, base), os.path.join(root, variant))


def _budgets(root, folder, budgets):
    from .sweeps import results

    return results.matched_budgets(_rows(root, folder), [int(b) for b in budgets.split(",")])


def _shift(root, folder, shifts):
    from . import shift

    shifts = [int(s) for s in shifts.split(",")]
    return shift.to_markdown(shift.summarize(shift.stored_records(os.path.join(root, folder), shifts)), shifts)


def _shift_families(root, folder, shifts, pairs):
    from . import shift
    from .sweeps import shift_families

    shifts = [int(s) for s in shifts.split(",")]
    try:
        models = shift_families.model_changes(shift.stored_records(os.path.join(root, folder), [0, *shifts]), shifts)
        return shift_families.to_markdown(models, shifts, shift_families.parse_pairs(pairs))
    except ValueError as error:
        raise ReadmeError(str(error)) from None


def _lr_grid(root, folders, labels):
    from . import lr_grid

    folders = [os.path.join(root, folder) for folder in folders.split(",")]
    return lr_grid.comparison(lr_grid.grid(folders, labels.split(",")))


def _recipes(root, folders, labels):
    from . import lr_grid

    return lr_grid.recipe_choice([os.path.join(root, folder) for folder in folders.split(",")], labels.split(","))


def _sample_efficiency(root, folder, targets):
    from .sweeps import sample_efficiency as study

    if not os.path.isdir(os.path.join(root, folder)):
        raise ReadmeError(f"no study folder {folder!r}")
    return study.report(os.path.join(root, folder), [float(t) for t in targets.split(",")])[1]


def _control(root, folder, control):
    from .sweeps import sample_efficiency as study

    for name in (folder, control):
        if not os.path.isdir(os.path.join(root, name)):
            raise ReadmeError(f"no study folder {name!r}")
    return study.control_comparison(study.report(os.path.join(root, folder), [])[0],
                                    study.report(os.path.join(root, control), [])[0])


def _confirmation(root, path):
    from . import confirm

    try:
        with contextlib.chdir(root):
            protocol = confirm.load(path)
            named = [(g, seed) for g in protocol["goals"] for seed in g["seeds"]]
            done = sum(1 for g, seed in named if confirm.finished(path, g, seed))
            if done < len(named):
                return (f"In progress: {done} of {len(named)} named runs have finished. Test is not read until "
                        f"all have. Protocol: `{path}`.\n")
            return confirm.read_test(path, protocol)
    except confirm.ConfirmationError as error:
        raise ReadmeError(str(error)) from None


def _command(root, *argv):
    """What `python -m MODULE ARGS...` prints, run in this process (from `root`)."""
    if len(argv) < 3 or argv[:2] != ("python", "-m"):
        raise ReadmeError(f"a command is 'python -m MODULE ARGS...'; received {' '.join(argv)!r}")
    out, argv_before, cwd = io.StringIO(), sys.argv, os.getcwd()
    try:
        os.chdir(root)
        sys.argv = [argv[2], *argv[3:]]
        with contextlib.redirect_stdout(out):
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    except SystemExit as exit:
        if exit.code not in (None, 0):
            raise ReadmeError(f"{' '.join(argv)!r} exited with {exit.code}") from None
    finally:
        sys.argv = argv_before
        os.chdir(cwd)
    return out.getvalue()


KINDS = {"zoo": (_zoo, 0), "weights": (_weights, 0), "results": (_results, 1), "compare": (_compare, 2),
         "budgets": (_budgets, 2), "shift": (_shift, 2), "shift_families": (_shift_families, 3), "lr_grid": (_lr_grid, 2), "recipes": (_recipes, 2),
         "sample_efficiency": (_sample_efficiency, 2), "control": (_control, 2),
         "confirmation": (_confirmation, 1),
         **frontier.BLOCKS, **claims.BLOCKS, **protocol_report.BLOCKS, **protocol_findings.BLOCKS,
         "command": (_command, None),
         "status": (front_page.status, 0), "reproduce": (front_page.reproduce, 3),
         "published": (front_page.published, 0)}


def generate_block(spec, root=REPO):
    """The text of one generated block, e.g. `generate_block("results results/mnist1d")`."""
    kind, *args = spec.split()
    if kind not in KINDS:
        raise ReadmeError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    fn, arity = KINDS[kind]
    if arity is not None and len(args) != arity:
        raise ReadmeError(f"{kind!r} takes {arity} argument(s); received {args}")
    return fn(root, *args)


def render(text, root=REPO):
    """`text` (a README) with every generated block regenerated.

    Example:

    >>> render("x\\n<!-- generated: zoo -->\\nold\\n<!-- /generated -->\\ny\\n").splitlines()[2]
    '| model | family | meant for | weights (trainable) | description |'
    """
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        match = BEGIN.match(line.rstrip("\n"))
        if not match:
            if line.rstrip("\n") == END:
                raise ReadmeError(f"line {i + 1}: {END} without a marker before it")
            out.append(line)
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip("\n") == END), None)
        if end is None:
            raise ReadmeError(f"line {i + 1}: {line.strip()} has no {END} after it")
        try:
            block = generate_block(match["spec"], root)
        except (ReadmeError, ValueError) as error:
            raise ReadmeError(f"line {i + 1}: {line.strip()}: {error}") from None
        out += [line, block if block.endswith("\n") else block + "\n", lines[end]]
        i = end + 1
    return "".join(out)


def missing_kinds(text, kinds):
    """The kinds of `kinds` that no marker of `text` names (a block that must not vanish)."""
    found = {match["spec"].split()[0] for match in map(BEGIN.match, text.splitlines()) if match}
    return [kind for kind in kinds if kind not in found]


def _check_or_write(path, root, write, kinds=()):
    """0 when `path` is current (or was rewritten), 1 when stale (a diff printed), 2 on an error."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    missing = missing_kinds(text, kinds)
    if missing:
        print(f"error: {path}: no generated block of kind {', '.join(missing)} (training.readme.DOCUMENTS)",
              file=sys.stderr)
        return 2
    try:
        fresh = render(text, root)
    except ReadmeError as error:
        print(f"error: {path}: {error}", file=sys.stderr)
        return 2
    if fresh == text:
        print(f"{path}: the generated tables are up to date")
        return 0
    if write:
        write_text(path, fresh)
        print(f"rewrote the generated tables of {path}")
        return 0
    sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                               path, "generated"))
    print(f"{path} differs from its generated tables: run python -m constrained_zoo.training.readme --write", file=sys.stderr)
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.readme",
        description="Check (default) or rewrite (--write) the generated tables of README.md and docs/*.md: the "
                    "zoo, published weights, results, comparisons, matched budgets, the shift experiment and "
                    "pasted command outputs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--readme", default=None,
                        help="one document to check or rewrite, paths relative to its folder (default: every "
                             "document of training.readme.DOCUMENTS, paths relative to the repository)")
    parser.add_argument("--write", action="store_true", help="rewrite the generated blocks instead of checking them")
    args = parser.parse_args(argv)
    if args.readme is not None:
        return _check_or_write(args.readme, os.path.dirname(os.path.abspath(args.readme)), args.write)
    codes = [_check_or_write(os.path.join(REPO, name), REPO, args.write, kinds) for name, kinds in DOCUMENTS.items()]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
