"""Test instances (a scenario on a platform) and twister's static filters.

Filter reasons are the strings twister's ``TestPlan.apply_filters`` gives
(scripts/pylib/twister/twisterlib/testplan.py); a filtered instance has status
``filtered`` and every test case of it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zsim.boards import BoardProfile, load_board

from .discovery import Scenario, TwisterConfigError
from .statuses import FILTER, NONE


@dataclass
class Platform:
    """A twister platform backed by a zsim board profile."""

    name: str                 # canonical twister identifier
    arch: str
    ram: int                  # KiB
    flash: int                # KiB
    supported: tuple[str, ...] = ()    # features ``depends_on`` is checked against

    @property
    def normalized_name(self) -> str:
        return self.name.replace("/", "_")

    @classmethod
    def from_profile(cls, prof: BoardProfile) -> Platform:
        return cls(prof.identifier, prof.arch, prof.ram_kib, prof.flash_kib,
                   tuple(getattr(prof, "supported", ()) or ()))


def resolve_platforms(names: Sequence[str], board_dirs: Iterable[str] = ()) -> list[Platform]:
    """Platforms for ``-p`` names (aliases resolve to the canonical name; duplicates drop)."""
    out: dict[str, Platform] = {}
    for n in names:
        prof = load_board(n, tuple(board_dirs))
        out.setdefault(prof.identifier, Platform.from_profile(prof))
    return list(out.values())


@dataclass
class Case:
    """One test case of an instance."""

    name: str
    status: str | None = NONE
    reason: str | None = None
    duration: float = 0.0
    output: str = ""
    freeform: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        return cls(**d)


@dataclass
class Instance:
    """A scenario on a platform and what happened to it."""

    scenario: Scenario
    platform: Platform
    status: str | None = NONE
    reason: str = "Unknown"
    testcases: list[Case] = field(default_factory=list)
    execution_time: float = 0.0
    build_time: float = 0.0
    retries: int = 0
    run: bool = False
    recording: list[dict[str, Any]] | None = None
    dut: str | None = None
    log_name: str = "handler.log"
    executed: bool = False        # the target ran it (twister: a handler time was taken)
    flaky: bool = False           # failed, then passed under --retry-failed
    footprint: dict[str, Any] | None = None   # RAM footprint (footprint.py), when asked

    @property
    def name(self) -> str:
        return f"{self.platform.name}/{self.scenario.name}"

    @property
    def run_id(self) -> str | None:
        if self.status == FILTER:
            return None
        return hashlib.md5(self.name.encode()).hexdigest()

    def init_cases(self) -> None:
        """Cases known before the run: declared or scanned, else one freeform case."""
        sc = self.scenario
        if sc.testcases:
            self.testcases = [Case(f"{sc.id}.{c}") for c in sc.testcases]
        else:
            self.testcases = [Case(sc.id, freeform=True)]

    def add_filter(self, reason: str) -> None:
        """Mark filtered; as in twister, the last filter that applies gives the reason."""
        self.status = FILTER
        self.reason = reason

    def add_missing_case_status(self, status: str | None, reason: str | None = None) -> None:
        for c in self.testcases:
            if c.status == NONE:
                c.status = status
                c.reason = reason or self.reason

    def get_case_by_name(self, name: str) -> Case | None:
        return next((c for c in self.testcases if c.name == name), None)

    def get_case_or_create(self, name: str) -> Case:
        c = self.get_case_by_name(name)
        if c is None:
            c = Case(name)
            self.testcases.append(c)
        return c


@dataclass
class FilterOptions:
    """The command-line parts of filtering."""

    tags: Sequence[str] = ()
    exclude_tags: Sequence[str] = ()
    scenarios: Sequence[str] = ()
    integration: bool = False
    device_testing: bool = False
    fixtures: Sequence[str] = ()                  # --fixture NAME[:PARAM]
    device_fixtures: Mapping[str, Sequence[str]] | None = None   # platform -> its board's
    ignore_platform_key: bool = False


def platform_attr(plat: Platform, key: str, device_testing: bool = False) -> Any:
    """A platform's value for a ``platform_key`` field (None when it has none): ``name``,
    ``arch``, ``simulation`` (``zsim`` on the simulator, ``na`` on boards), ``ram``,
    ``flash``."""
    if key == "simulation":
        return "na" if device_testing else "zsim"
    if key in ("name", "arch", "ram", "flash"):
        return getattr(plat, key)
    return None


def fixture_available(fixture: str, plat: Platform, opts: FilterOptions) -> bool:
    """Whether ``fixture`` was given with ``--fixture`` (``NAME:PARAM`` counts as NAME) or,
    on boards, is among the fixtures of the platform's board in the hardware map."""
    given = [f.split(":", 1)[0] for f in opts.fixtures]
    if opts.device_fixtures is not None:
        given += [f.split(":", 1)[0] for f in opts.device_fixtures.get(plat.name, ())]
    return fixture in given


def apply_filters(scenarios: Sequence[Scenario], platforms: Sequence[Platform],
                  opts: FilterOptions) -> list[Instance]:
    """Instances for every scenario on every platform, filtered as twister filters them.

    With ``--integration`` only the scenario's integration platforms are kept (twister
    adds no instance for the others)."""
    out: list[Instance] = []
    tag_filter = set(opts.tags)
    exclude = set(opts.exclude_tags)
    wanted = {s.rsplit("/", 1)[-1] for s in opts.scenarios}
    keyed: dict[tuple[Any, ...], Platform] = {}
    for sc in scenarios:
        for plat in platforms:
            inst = Instance(sc, plat)
            inst.init_cases()
            fixture = sc.harness_config.get("fixture")
            inst.run = not sc.build_only and \
                (not fixture or fixture_available(str(fixture), plat, opts))
            if opts.device_testing and not inst.run:
                inst.add_filter("Not runnable on device")
            if opts.integration and sc.integration_platforms \
                    and plat.name not in sc.integration_platforms:
                inst.add_filter("Not part of integration platforms")
            if sc.skip:
                inst.add_filter("Skip filter")
            if tag_filter and not sc.tags & tag_filter:
                inst.add_filter("Command line testsuite tag filter")
            if exclude and sc.tags & exclude:
                inst.add_filter("Command line testsuite exclude filter")
            if wanted and sc.id not in wanted:
                inst.add_filter("Testsuite name filter")
            if sc.arch_allow and plat.arch not in sc.arch_allow:
                inst.add_filter("Not in testsuite arch allow list")
            if sc.arch_exclude and plat.arch in sc.arch_exclude:
                inst.add_filter("In testsuite arch exclude")
            if sc.platform_exclude and plat.name in sc.platform_exclude:
                inst.add_filter("In testsuite platform exclude")
            if sc.platform_allow and plat.name not in sc.platform_allow:
                inst.add_filter("Not in testsuite platform allow list")
            if plat.ram < sc.min_ram:
                inst.add_filter("Not enough RAM")
            if plat.flash < sc.min_flash:
                inst.add_filter("Not enough FLASH")
            if sc.depends_on and not set(sc.depends_on) <= set(plat.supported):
                inst.add_filter("No hardware support")
            if opts.integration and plat.name not in sc.integration_platforms:
                continue
            if sc.platform_key and not opts.ignore_platform_key:
                _platform_key(inst, keyed, opts.device_testing)
            if inst.status == FILTER:
                inst.run = False
                inst.add_missing_case_status(FILTER)
            out.append(inst)
    return out


def _platform_key(inst: Instance, keyed: dict[tuple[Any, ...], Platform],
                  device_testing: bool) -> None:
    """twister's ``platform_key``: one instance per distinct value of the key fields."""
    fields = sorted(set(inst.scenario.platform_key))
    keys = [platform_attr(inst.platform, f, device_testing) for f in fields]
    if any(k is None or k == "na" for k in keys):
        inst.add_filter("Excluded platform missing key fields demanded by test. Key fields "
                        f"need to be: {','.join(fields)}")
        return
    test_key = (*keys, inst.scenario.name)
    first = keyed.get(test_key)
    if first is not None:
        plat_key = {f: platform_attr(first, f, device_testing) for f in fields}
        inst.add_filter(f"Already covered for key {keys[-1]} by platform {first.name} "
                        f"having key {plat_key}")
    elif inst.status != FILTER:
        keyed[test_key] = inst.platform


def check_unique(instances: Iterable[Instance]) -> None:
    """Two scenarios with the same identifier on the same platform would share one result
    (and one build directory): a ``TwisterConfigError`` naming both files."""
    seen: dict[str, Scenario] = {}
    for inst in instances:
        first = seen.setdefault(inst.name, inst.scenario)
        if first is not inst.scenario:
            sc = inst.scenario
            raise TwisterConfigError(
                f"{sc.yaml_file}:{sc.line}: scenario {sc.name} on {inst.platform.name} is "
                f"also defined at {first.yaml_file}:{first.line}; each scenario needs an "
                "identifier of its own (rename one, or run the two roots separately)")


__all__ = ["Case", "FilterOptions", "Instance", "Platform", "apply_filters",
           "check_unique", "fixture_available", "platform_attr", "resolve_platforms"]
