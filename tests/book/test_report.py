"""Markdown tables of results: formats per column, values that do not exist, wrong shapes."""

import pytest

from sphereface_lib.book.report import MISSING, markdown_table, show_table


def test_rows_are_formatted_per_column_and_aligned():
    text = markdown_table([["a", 0.5, 3]], ["name", "share", "count"], ["{}", "{:.2f}", str])
    assert text.splitlines() == [
        "| name | share | count |",
        "| :--- | ---: | ---: |",
        "| a | 0.50 | 3 |",
    ]


def test_a_missing_value_is_a_dash_whatever_its_format():
    text = markdown_table([["a", None, None]], ["name", "median", "count"], ["{}", "{:.2f}", str])
    assert text.splitlines()[-1] == f"| a | {MISSING} | {MISSING} |"


@pytest.mark.parametrize(
    ("rows", "formats", "message"),
    [([["a", 1]], ["{}"], "1 formats for 2 columns"), ([["a"]], None, "has 1 values")],
)
def test_wrong_shapes_are_value_errors(rows, formats, message):
    with pytest.raises(ValueError, match=message):
        markdown_table(rows, ["name", "value"], formats)


def test_show_table_names_its_source_under_the_table():
    shown = show_table([["a", 1]], ["name", "value"], source="Paper, Table 4.")
    assert shown.data.endswith("\n\n<small>Paper, Table 4.</small>")
