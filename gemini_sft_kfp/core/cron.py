"""Unix cron (5 fields, optional ``TZ=Zone`` prefix) as Vertex AI schedules use it:
when does a schedule fire next? ``*``, ``*/n``, ``a-b``, ``a-b/n``, lists, names.

Product code: ``gemini-sft schedule`` checks an expression with it before anything is
created, and the emulator's schedules fire by it (answering a ``CronError`` with
Vertex's 400)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class CronError(ValueError):
    """An expression Vertex AI would refuse; the message says why."""


def invalid(message: str) -> CronError:
    return CronError(message)


_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES = {
    3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
MAX_DAYS = 366 * 5  # e.g. "0 0 29 2 *" fires within 4 years


def _value(text: str, field: int) -> int:
    names = _NAMES.get(field)
    if names and text.lower() in names:
        return names.index(text.lower()) + (1 if field == 3 else 0)
    number = _digits(text)
    return 0 if field == 4 and number == 7 else number  # 7 is Sunday too


def _digits(text: str) -> int:
    """A number written in ASCII digits: Python's int() also reads "７" (fullwidth) and
    other scripts' digits, which Vertex AI's cron parser refuses."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


def _field(text: str, field: int) -> set[int]:
    low, high = _BOUNDS[field]
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = _digits(step_text) if step_text else 1
        if span == "*":
            start, end = low, high
        elif "-" in span:
            start, end = (_value(v, field) for v in span.split("-", 1))
        else:
            start = _value(span, field)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ValueError(part)
        values.update(range(start, end + 1, step))
    return values


class Cron:
    """A parsed expression; ``next_after(moment)`` is the next firing time (UTC, aware)."""

    def __init__(self, expression: str) -> None:
        text = expression.strip()
        self.zone = dt.UTC
        if text.startswith(("TZ=", "CRON_TZ=")):
            zone, _, text = text.partition(" ")
            try:
                self.zone = ZoneInfo(zone.split("=", 1)[1])
            except (ZoneInfoNotFoundError, ValueError):
                raise invalid(f"Unknown time zone in cron {expression!r}") from None
        fields = text.split()
        if len(fields) != 5:
            raise invalid(f"Invalid cron expression {expression!r}: expected 5 fields")
        try:
            parsed = [_field(f, i) for i, f in enumerate(fields)]
        except ValueError as exc:
            raise invalid(f"Invalid cron expression {expression!r} (near {exc})") from None
        self.minutes, self.hours, self.days, self.months, self.weekdays = parsed
        # cron: when both day fields are restricted, either may match
        self._any_day = fields[2] == "*" or fields[4] == "*"
        self._days_restricted = fields[2] != "*"
        self._weekdays_restricted = fields[4] != "*"

    def _day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self._days_restricted and self._weekdays_restricted:
            return by_date or by_weekday
        return by_date and by_weekday

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The next firing after ``moment``; CronError when there is none before the last
        time a timestamp can hold (9999-12-31: a start time there was an OverflowError)."""
        try:
            return self._next_after(moment)
        except OverflowError:
            raise invalid("The cron expression never fires before 9999-12-31.") from None

    def _next_after(self, moment: dt.datetime) -> dt.datetime:
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0)
        local += dt.timedelta(minutes=1)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = dt.datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=self.zone
                        )
                        if candidate >= local:
                            return candidate.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise invalid("The cron expression never fires.")
