"""``-f/--only-failed`` and ``--load-tests``: a plan read back from a twister.json.

As twister's ``TestPlan.load_from_file``: each ``testsuites`` entry names a scenario (found
under the ``-T`` roots) and a platform. Entries that failed, errored, were blocked or have
no status yet (a testplan.json) run again; a failed or errored one counts one more retry.
The others (passed, skipped, filtered, not run) keep their result and are reported as they
were, without running.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from zsim.boards import load_board
from zsim.errors import BoardError

from .discovery import Scenario, TwisterConfigError
from .filters import Case, Instance, Platform
from .statuses import ERROR, FAIL, FILTER, NONE, NOTRUN, PASS, SKIP

KEPT = (PASS, SKIP, FILTER, NOTRUN)
"""Statuses a loaded entry keeps; every other one runs again."""


def _read(path: Path, flag: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TwisterConfigError(f"{flag}: {path} not found (expected the twister.json of "
                                 "an earlier run)") from None
    except OSError as exc:
        raise TwisterConfigError(f"{flag}: {path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise TwisterConfigError(f"{path}:{line}: invalid JSON: "
                                 f"{getattr(exc, 'msg', exc)}") from None
    suites = doc.get("testsuites") if isinstance(doc, dict) else None
    if not isinstance(suites, list) or not all(
            isinstance(s, dict) and isinstance(s.get("name"), str)
            and isinstance(s.get("platform"), str) for s in suites):
        raise TwisterConfigError(f"{path}: expected twister.json's shape: an object whose "
                                 "'testsuites' list holds entries with 'name' and 'platform'")
    return suites


def _platform(name: str, board_dirs: tuple[str, ...], path: Path,
              cache: dict[str, Platform]) -> Platform:
    if name not in cache:
        try:
            cache[name] = Platform.from_profile(load_board(name, board_dirs))
        except BoardError as exc:
            raise TwisterConfigError(f"{path}: platform {name!r}: {exc}") from None
    return cache[name]


def _restore(inst: Instance, ts: dict[str, Any]) -> None:
    """Keep an entry's earlier result: status, reason, times and cases."""
    inst.status = ts.get("status")
    inst.reason = str(ts.get("reason", "Unknown"))
    inst.execution_time = float(ts.get("execution_time", 0) or 0)
    inst.flaky = bool(ts.get("flaky"))
    cases = []
    for tc in ts.get("testcases") or []:
        if isinstance(tc, dict) and isinstance(tc.get("identifier"), str):
            cases.append(Case(tc["identifier"], tc.get("status"), tc.get("reason"),
                              float(tc.get("execution_time", 0) or 0),
                              freeform=tc["identifier"] == inst.scenario.id))
    if cases:
        inst.testcases = cases


def load_plan(path: str | Path, scenarios: Sequence[Scenario], *, flag: str,
              board_dirs: Iterable[str] = (),
              platforms: Sequence[str] = ()) -> tuple[list[Instance], list[Platform]]:
    """The instances listed in the twister.json at ``path`` (only ``platforms`` when given)
    and their platforms in order of first appearance."""
    path = Path(path)
    by_name = {}
    for sc in scenarios:
        by_name.setdefault(sc.name, sc)
    dirs = tuple(board_dirs)
    cache: dict[str, Platform] = {}
    wanted = {_platform(p, dirs, path, cache).name for p in platforms}
    out: list[Instance] = []
    for ts in _read(path, flag):
        plat = _platform(ts["platform"], dirs, path, cache)
        if wanted and plat.name not in wanted:
            continue
        sc = by_name.get(ts["name"])
        if sc is None:
            raise TwisterConfigError(f"{path}: suite {ts['name']} on {plat.name}: no such "
                                     "scenario under the -T roots")
        inst = Instance(sc, plat)
        inst.init_cases()
        inst.run = bool(ts.get("runnable", not sc.build_only))
        inst.retries = int(ts.get("retries", 0) or 0)
        if ts.get("status") in KEPT:
            _restore(inst, ts)
        else:
            if ts.get("status") in (FAIL, ERROR):
                inst.retries += 1
            inst.status = NONE
            inst.run = not sc.build_only
        out.append(inst)
    plats = list({i.platform.name: i.platform for i in out}.values())
    return out, plats


def list_tests(scenarios: Iterable[Scenario]) -> list[str]:
    """twister's ``--list-tests``: every test case found, sorted, then the count."""
    names = sorted({f"{sc.id}.{c}" for sc in scenarios for c in sc.testcases} |
                   {sc.id for sc in scenarios if not sc.testcases})
    return [f" - {n}" for n in names] + [f"{len(names)} total."]


__all__ = ["KEPT", "list_tests", "load_plan"]
