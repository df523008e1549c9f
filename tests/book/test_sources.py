"""The labels of quoted numbers agree with the numbers they state (errata cannot drift back)."""

from __future__ import annotations

import re

from sphereface_lib.book import sources


def numbers(text: str) -> list[float]:
    """Every number in ``text`` ("10,240" -> 10240, "99.42" -> 99.42)."""
    return [float(token.replace(",", "")) for token in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def test_reference_label_states_its_protocol_consistently() -> None:
    label = sources.REFERENCE_SOURCE
    match = re.search(r"(\d+) test batches of (\d+), i\.e\. ([\d,]+) images", label)
    assert match, label
    batches, size, images = (int(group.replace(",", "")) for group in match.groups())
    assert (batches, size) == (sources.REFERENCE_TEST_BATCHES, sources.REFERENCE_TEST_BATCH_SIZE)
    assert batches * size == images
    assert sources.REFERENCE_README_DATE in label
    assert "10,000-image test set" in label


def test_paper_lfw_label_states_the_quoted_accuracy() -> None:
    assert 100 * sources.PAPER_LFW_ACCURACY in numbers(sources.PAPER_LFW_SOURCE)
    assert "Table 4" in sources.PAPER_LFW_SOURCE


def test_casia_label_states_the_quoted_counts() -> None:
    stated = numbers(sources.CASIA_WEBFACE_SOURCE)
    assert sources.CASIA_WEBFACE_IMAGES in stated
    assert sources.CASIA_WEBFACE_PEOPLE in stated
    assert sources.CASIA_WEBFACE_OFFICIAL_CLASSES in stated
    assert sources.CASIA_WEBFACE_PEOPLE != sources.CASIA_WEBFACE_OFFICIAL_CLASSES


def test_reference_accuracies_are_the_readme_values() -> None:
    assert sources.REFERENCE_2D_ACCURACY == {
        "original": 0.9775,
        "modified": 0.9847,
        "angular": 0.9896,
    }


def test_table_3_label_states_the_quoted_lfw_values():
    stated = numbers(sources.PAPER_TABLE3_SOURCE)
    for value in sources.PAPER_TABLE3_LFW.values():
        assert value in stated
    assert sources.PAPER_TABLE3_LFW[4] == 100 * sources.PAPER_LFW_ACCURACY
    assert "Table 3" in sources.PAPER_TABLE3_SOURCE
