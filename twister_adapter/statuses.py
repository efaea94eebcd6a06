"""Status strings, as twister's ``TwisterStatus`` spells them
(scripts/pylib/twister/twisterlib/statuses.py)."""

from __future__ import annotations

PASS = "passed"
FAIL = "failed"
ERROR = "error"
SKIP = "skipped"
FILTER = "filtered"
BLOCK = "blocked"
STARTED = "started"
NOTRUN = "not run"
NONE: str | None = None

ALL = (PASS, FAIL, ERROR, SKIP, FILTER, BLOCK, STARTED, NOTRUN)
