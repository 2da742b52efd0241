"""constrained_zoo.markdown: the one Markdown table helper of the project."""

import pytest

from constrained_zoo.markdown import markdown_table


def test_a_table_is_a_header_an_alignment_row_and_one_line_a_row():
    table = markdown_table(["model", "family", "weights"], [["cnn", "conv", "1,898"], ("mlp", "mlp", 12)],
                           right=range(2, 3))
    assert table == ("| model | family | weights |\n|---|---|---:|\n| cnn | conv | 1,898 |\n| mlp | mlp | 12 |")
    assert markdown_table(["a"], []) == "| a |\n|---|"


@pytest.mark.parametrize("rows, right, match", [
    ([["x"]], (), r"`rows`: row 0 has 1 cells; the header has 2 columns. Received row=\['x'\]"),
    ([["x", "y"]], (1, 2), r"`right`: columns \[2\] are not among the header's 2 columns. Received right=\[1, 2\]"),
])
def test_a_table_that_does_not_fit_its_header_is_refused(rows, right, match):
    with pytest.raises(ValueError, match=match):
        markdown_table(["a", "b"], rows, right=right)
