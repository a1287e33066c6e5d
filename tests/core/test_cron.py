"""The schedule cron parser: next firing times like Unix cron."""

from __future__ import annotations

import datetime as dt

import pytest

from gemini_sft_kfp.core.cron import Cron, CronError

START = dt.datetime(2026, 1, 1, 10, 30, 15, tzinfo=dt.UTC)  # a Thursday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("* * * * *", dt.datetime(2026, 1, 1, 10, 31, tzinfo=dt.UTC)),
        ("*/15 * * * *", dt.datetime(2026, 1, 1, 10, 45, tzinfo=dt.UTC)),
        ("0 3 * * *", dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)),
        ("0 9 * * mon", dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)),
        ("0 0 1 feb *", dt.datetime(2026, 2, 1, 0, 0, tzinfo=dt.UTC)),
        ("30 10 1,15 * *", dt.datetime(2026, 1, 15, 10, 30, tzinfo=dt.UTC)),
        ("0 0 13 * 5", dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.UTC)),  # 13th OR a Friday
        ("TZ=America/New_York 0 6 * * *", dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.UTC)),
        ("0 0 29 2 *", dt.datetime(2028, 2, 29, 0, 0, tzinfo=dt.UTC)),
    ],
)
def test_next_firing_time(expression, expected):
    assert Cron(expression).next_after(START) == expected


@pytest.mark.parametrize(
    "expression", ["every day", "61 * * * *", "* * * *", "TZ=Nowhere/X * * * * *"]
)
def test_invalid_expressions_are_refused(expression):
    with pytest.raises(CronError, match=r"(?i)cron|zone"):
        Cron(expression)
