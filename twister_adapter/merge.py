"""Merging the reports of several twister runs or shards into one set.

twister.json files are merged by suite identifier (scenario name, platform, toolchain);
the JUnit files (twister.xml, twister_report.xml, twister_suite_report.xml) with
junitparser, test suites by name (and platform property), test cases by class name and
name. Where the same suite or case is in several directories, the one from the directory
given last wins (a rerun replaces the first result); the order of first appearance is kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from junitparser import JUnitXml, TestSuite

from .discovery import TwisterConfigError
from .reports import dump_json, write_atomic

XML_REPORTS = ("{}.xml", "{}_report.xml", "{}_suite_report.xml")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TwisterConfigError(f"--merge-reports: cannot read {path}: {exc.strerror}") \
            from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise TwisterConfigError(f"{path}{line}: --merge-reports: expected twister.json "
                                 f"(JSON), got: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("testsuites"), list) or \
            not all(isinstance(s, dict) and "name" in s and "platform" in s
                    for s in doc["testsuites"]):
        raise TwisterConfigError(f"{path}:1: --merge-reports: expected a twister.json "
                                 "object whose testsuites each have a name and a platform")
    return doc


def suite_key(suite: dict[str, Any]) -> tuple[str, str, str]:
    """A twister.json suite's identifier: (name, platform, toolchain)."""
    return (suite["name"], suite["platform"], suite.get("toolchain", ""))


def merge_json(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One twister.json from several: the first environment, suites merged by identifier."""
    suites: dict[tuple[str, str, str], dict[str, Any]] = {}
    for doc in docs:
        for suite in doc["testsuites"]:
            suites[suite_key(suite)] = suite
    return {"environment": docs[0].get("environment", {}), "testsuites": list(suites.values())}


def _suite_id(suite: TestSuite) -> tuple[str, str]:
    """A JUnit test suite's identifier: its name and platform property, if any."""
    platform = next((p.value for p in suite.properties() if p.name == "platform"), "")
    return (suite.name or "", platform or "")


def merge_junit(paths: Sequence[Path]) -> JUnitXml:
    """The test suites of several JUnit files, merged (module docstring)."""
    merged: dict[tuple[str, str], TestSuite] = {}
    for path in paths:
        try:
            xml = JUnitXml.fromfile(str(path))
        except Exception as exc:  # noqa: BLE001 - any parse error: bad input, named
            raise TwisterConfigError(f"{path}: --merge-reports: expected JUnit XML, got: "
                                     f"{exc}") from None
        suites = [xml] if isinstance(xml, TestSuite) else list(xml)
        for suite in suites:
            target = merged.setdefault(_suite_id(suite), suite)
            if target is suite:
                continue
            cases = {(c.classname, c.name): c for c in target}
            for case in suite:
                old = cases.get((case.classname, case.name))
                if old is not None:
                    target.remove_testcase(old)
                target._add_testcase_no_update_stats(case)
    out = JUnitXml()
    for suite in merged.values():
        suite.update_statistics()
        out.append(suite)
    return out


class MergedReports:
    """The merged reports of several output directories, read and checked, not written."""

    def __init__(self, dirs: Sequence[str | Path], name: str = "twister") -> None:
        paths = [Path(d) for d in dirs]
        for d in paths:
            if not (d / f"{name}.json").is_file():
                raise TwisterConfigError(f"--merge-reports {d}: expected a twister output "
                                         f"directory holding {name}.json")
        self.name = name
        self.doc = merge_json([_read_json(d / f"{name}.json") for d in paths])
        self.xml: dict[str, JUnitXml] = {}
        for pattern in XML_REPORTS:
            fname = pattern.format(name)
            found = [d / fname for d in paths if (d / fname).is_file()]
            if found:
                self.xml[fname] = merge_junit(found)

    def write(self, outdir: str | Path) -> None:
        """Write ``NAME.json`` and the JUnit reports into ``outdir``, each whole."""
        out = Path(outdir)
        write_atomic(out / f"{self.name}.json", dump_json(self.doc))
        for fname, xml in self.xml.items():
            write_atomic(out / fname, xml.tostring())


__all__ = ["XML_REPORTS", "MergedReports", "merge_json", "merge_junit", "suite_key"]
