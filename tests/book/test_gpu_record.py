"""The GPU record as the README and chapters 2 and 6 show it."""

import json

from sphereface_lib.book.gpu_record import (
    faces_rows,
    latest_gpu_record,
    mnist_rows,
    record_label,
)


def record(date: str, smoke: bool = False) -> dict:
    return {
        "kind": "gpu_book",
        "smoke": smoke,
        "date": date,
        "commit": "abc1234",
        "environment": {"gpus": ["NVIDIA H200"]},
        "stages": {
            "mnist": {
                "summary": {
                    "angular, 2-D": {"mean": 0.9931, "std": 0.0004, "seeds": 3},
                    "original, 3-D": {"mean": 0.99, "std": None, "seeds": 1},
                }
            },
            "faces": {
                "verification": {
                    "angular": {
                        "official": {"mean": 0.9, "std": 0.01},
                        "plain": {"mean": 0.89, "std": 0.02},
                        "auc": 0.95,
                    }
                }
            },
        },
    }


def test_the_newest_real_record_is_shown_and_smoke_records_never(tmp_path):
    assert latest_gpu_record(tmp_path) is None
    (tmp_path / "gpu_2026-12-01.json").write_text(json.dumps(record("2026-12-01")))
    (tmp_path / "gpu_2026-12-05.json").write_text(json.dumps(record("2026-12-05")))
    (tmp_path / "gpu_smoke.json").write_text(json.dumps(record("2026-12-09", smoke=True)))
    assert latest_gpu_record(tmp_path)["date"] == "2026-12-05"


def test_rows_and_label():
    shown = record("2026-12-02")
    assert record_label(shown) == "NVIDIA H200, 2026-12-02, commit abc1234"
    assert mnist_rows(shown) == [
        ["A-Softmax (m=4)", "2-D", "99.31 ± 0.04", 3],
        ["original softmax", "3-D", "99.00", 1],
    ]
    assert faces_rows(shown) == [["A-Softmax (m=4)", "90.00 ± 1.00", "89.00 ± 2.00", "0.9500"]]
