"""Records say how they were measured without the measuring machine's paths; README blocks."""

from pathlib import Path

import pytest

from sphereface_lib.book.provenance import (
    has_machine_paths,
    markers,
    portable_command,
    readme_block,
    with_readme_block,
)

ROOT = Path("/home/someone/sphereface")


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [
        (
            ["/home/someone/sphereface/scripts/mnist_results.py", "--cache-dir", "/work/c"],
            "python scripts/mnist_results.py --cache-dir <cache-dir>",
        ),
        (
            ["scripts/x.py", "--json", "results/a.json", "--seeds", "0", "1"],
            "python scripts/x.py --json results/a.json --seeds 0 1",
        ),
        (["x.py", "--output=/tmp/run"], "python x.py --output=<output>"),
        (["x.py", "/data/file.json"], "python x.py <path>"),
        (
            ["x.py", "--json", "/home/someone/sphereface/results/a.json"],
            "python x.py --json results/a.json",
        ),
    ],
)
def test_commands_keep_no_machine_paths(arguments, shown):
    command = portable_command(arguments, ROOT)
    assert command == shown
    assert not has_machine_paths(command)


def test_machine_paths_are_found_and_units_are_not():
    assert has_machine_paths("python x.py --cache-dir /work/full4/cache")
    assert not has_machine_paths("3,618 images/s at 42.5 GFLOP/s; results/mnist_full.json")


def test_a_block_is_replaced_between_its_markers_only():
    start, end = markers("table", "scripts/x.py")
    assert start == "<!-- table:start (written by scripts/x.py) -->"
    text = f"# Title\n{start}\nold\n{end}\nafter\n"
    new = with_readme_block(text, start, end, "new")
    assert new == f"# Title\n{start}\nnew\n{end}\nafter\n"
    assert readme_block(new, start, end) == "new"
    with pytest.raises(ValueError, match="marker lines"):
        readme_block("# no markers\n", start, end)
