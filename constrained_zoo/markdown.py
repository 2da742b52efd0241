"""One Markdown table helper for every table the project prints or generates.

The zoo's listing (`constrained_zoo.models`), the results and their
comparisons (`constrained_zoo.training`), the documentation's generated
blocks and the notebooks' helpers all build their tables with
`markdown_table`. This module imports nothing but the standard library, so
every package of the project may use it.
"""


def markdown_table(header, rows, right=()):
    """`header` and `rows` as a GitHub-flavoured Markdown table, one line a row, no newline at the end.

    Cells are written as they are given (`str()` of each), so format numbers
    before passing them.

    Args:
        header: the column titles.
        rows: the rows, each a sequence of cells as long as `header`.
        right: the indexes of the columns to right-align (numbers); the
            others are left-aligned.

    Returns:
        The table's lines joined by newlines.

    Raises:
        ValueError: a row has not as many cells as `header` has titles, or
            `right` names a column that `header` has not.

    Example:

    >>> print(markdown_table(["model", "weights"], [["cnn", "1,898"]], right=[1]))
    | model | weights |
    |---|---:|
    | cnn | 1,898 |
    """
    header, right = list(header), set(right)
    outside = sorted(right - set(range(len(header))))
    if outside:
        raise ValueError(f"Invalid value for argument `right`: columns {outside} are not among the header's "
                         f"{len(header)} columns. Received right={sorted(right)}")
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    for number, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"Invalid value for argument `rows`: row {number} has {len(row)} cells; the header "
                             f"has {len(header)} columns. Received row={row!r}")
        lines.append("| " + " | ".join(map(str, row)) + " |")
    return "\n".join(lines)
