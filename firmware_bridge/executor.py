"""Executors that run a ``topology.yaml`` scenario through the wire protocol's commands.

``DeviceExecutor(url)`` runs it on any board reachable by a pyserial URL (a real board
with the shim, or ``zsim board serve``); ``BridgeSimExecutor`` runs the very same
command sequence on an in-process simulated board, without any wire. Both turn the
board's reports into trace events (docs/trace-format.md) and a ``RunOutcome``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from zsim import __version__ as zsim_version
from zsim.executor import EventSink, Executor, RunOutcome
from zsim.kernel.time_units import K_SECONDS, Timeout

from . import protocol as p
from .driver import CommandRejected, Device, DeviceError, open_device
from .limits import estimate_report_rate, link_warning
from .plan import Plan, PlanError, build_plan
from .scenario import Scenario, load_scenario
from .simboard import SimBoard

DEFAULT_DURATION = K_SECONDS(10)
_SETUP_TYPES = {p.CREATE_POOL, p.CREATE_SOURCE, p.CREATE_QUEUE, p.CREATE_SINK, p.ADD_PERIODIC,
                p.ADD_SCRIPT, p.ADD_STEP, p.RESET}


def read_prj_conf(path: str | Path) -> dict[str, Any]:
    """``CONFIG_X=y`` lines of a prj.conf as a mapping without the prefix."""
    out: dict[str, Any] = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line.startswith("CONFIG_") or "=" not in line:
            continue
        key, _, value = line[7:].partition("=")
        value = value.strip().strip('"')
        out[key.strip()] = True if value == "y" else False if value == "n" else value
    return out


def merged_config(sc: Scenario, config: Mapping[str, object] | str | None) -> dict[str, Any]:
    """The scenario's prj.conf and ``config:``, then the caller's ``config``."""
    cfg: dict[str, Any] = {}
    if sc.prj_conf is not None:
        cfg.update(read_prj_conf(sc.prj_conf))
    cfg.update(sc.config)
    if isinstance(config, str):
        cfg.update(read_prj_conf(config))
    elif config:
        cfg.update(config)
    return cfg


def write_trace(outcome: RunOutcome, stream: IO[str]) -> None:
    """Write a RunOutcome as a JSON Lines trace (header, then events)."""
    stream.write(json.dumps(outcome.header) + "\n")
    for ev in outcome.events:
        stream.write(json.dumps(ev) + "\n")


def _stats_event(plan: Plan, stats: dict[str, Any], uptime: int) -> dict[str, Any]:
    return {"type": "stats", "tick": uptime, "us": uptime * 1e6 / plan.tps, **stats}


def _setup_failure(plan: Plan, typ: int, fields: dict[str, Any], ret: int) -> str:
    what = p.type_name(typ)
    name = fields.get("name") or fields.get("thread_name") or ""
    return f"the board refused {what} {name!r}: {ret}".replace(" ''", "")


class _Backend:
    """What a scenario run needs from a board: commands, a run, the reports."""

    target = "device"
    board = ""
    tps = 100

    def transact(self, cmds: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def run(self, ticks: int, progress: Any) -> None:
        raise NotImplementedError

    def reports(self) -> list[tuple[int, dict[str, Any]]]:
        raise NotImplementedError

    def take_new(self) -> list[tuple[int, dict[str, Any]]]:
        raise NotImplementedError


class _LocalBackend(_Backend):
    target = "simulator"

    def __init__(self, board: str, queue_size_override: int | None = None,
                 costs: str = "board") -> None:
        self._new: list[tuple[int, dict[str, Any]]] = []
        self.sim = SimBoard(board, queue_size_override=queue_size_override, costs=costs,
                            on_report=lambda typ, f: self._new.append((typ, f)))
        self.board = self.sim.board_id
        self.tps = self.sim.ticks_per_sec
        # no wire in between: no link rate to warn about
        self.hello = {"ret": 0, **self.sim.hello_fields(), "link_baud": 0}

    def transact(self, cmds: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        out = []
        for typ, fields in cmds:
            # round-trip through the codec, as the wire would
            fields = p.decode_payload(typ, p.encode_payload(typ, fields))
            ret, extra, after = self.sim.execute(typ, fields)
            out.append({"ret": ret, **extra})
            if after is not None:
                after()
        return out

    def run(self, ticks: int, progress: Any) -> None:
        self.transact([(p.RUN, {"ticks": ticks})])
        if progress is not None:
            progress()

    def reports(self) -> list[tuple[int, dict[str, Any]]]:
        return list(self._new)

    def take_new(self) -> list[tuple[int, dict[str, Any]]]:
        new, self._new = self._new, []
        return new


class _DeviceBackend(_Backend):
    def __init__(self, dev: Device, run_timeout: float, slack: float) -> None:
        self.dev = dev
        self.hello = dev.hello or {}
        self.board = self.hello.get("board", "?")
        self.tps = int(self.hello.get("ticks_per_sec", 100))
        self.target = "virtual-board" if self.hello.get("features", 0) & p.FEAT_VIRTUAL \
            else "device"
        self.run_timeout = run_timeout
        self.slack = slack

    def transact(self, cmds: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        out = []
        batch: list[tuple[int, dict[str, Any]]] = []
        for typ, fields in cmds:
            if typ in (p.SEND, p.PROCESS):
                out += self.dev.transact(batch)
                batch = []
                wait = max(0, fields.get("timeout", 0)) / self.tps
                out.append(self.dev.command(typ, fields, extra=wait))
            else:
                batch.append((typ, fields))
        out += self.dev.transact(batch)
        return out

    def run(self, ticks: int, progress: Any) -> None:
        wall = self.run_timeout + self.slack * ticks / self.tps
        self.dev.run(ticks, wall_timeout=wall, progress=progress)

    def reports(self) -> list[tuple[int, dict[str, Any]]]:
        return self.dev.received()

    def take_new(self) -> list[tuple[int, dict[str, Any]]]:
        return self.dev.take_contiguous()


class _ScenarioExecutor(Executor):
    """Shared scenario flow: build, RUN, read stats, convert reports."""

    on_warning: Callable[[str], None] | None = None

    def _backend(self, board: str | None) -> _Backend:
        raise NotImplementedError

    def _warn(self, message: str) -> None:
        """Say ``message`` before the run (``on_warning``, else standard error)."""
        if self.on_warning is not None:
            self.on_warning(message)
        else:
            print(f"zsim: warning: {message}", file=sys.stderr, flush=True)

    def run(self, scenario: str | Path, *, board: str | None = None,
            duration: Timeout | None = None, seed: int = 0,
            config: Mapping[str, object] | str | None = None,
            on_event: EventSink | None = None) -> RunOutcome:
        """Run ``scenario`` for ``duration`` (default: the scenario's, else 10 s).

        ``outcome.started`` is False when it failed before the run began (nothing ran)."""
        sc = load_scenario(scenario)
        backend = self._backend(board)
        outcome = RunOutcome(target=backend.target, board=backend.board,
                             ticks_per_sec=backend.tps)
        outcome.header = {"type": "header", "format": "zsim-trace", "version": 1,
                          "target": backend.target, "board": backend.board,
                          "ticks_per_sec": backend.tps, "seed": seed,
                          "scenario": str(scenario), "zsim": zsim_version}
        hello = getattr(backend, "hello", None) or {}
        if hello.get("build_id"):
            outcome.header["build_id"] = hello["build_id"]
        plan = build_plan(sc, backend.tps, seed=seed, config=merged_config(sc, config),
                          hello=hello)
        dur = duration or sc.duration or DEFAULT_DURATION
        run_ticks = 0 if dur.is_forever else max(1, int(dur.ticks(backend.tps)))
        if not 0 < run_ticks <= 0xFFFFFFFF:
            raise PlanError(f"{dur} is too long for one run on {backend.board} (at most "
                            f"{0xFFFFFFFF} ticks of {backend.tps} per second)")
        outcome.started = False
        outcome.warnings = []  # type: ignore[attr-defined]
        warning = link_warning(estimate_report_rate(plan.commands, backend.tps, run_ticks),
                               hello)
        if warning is not None:
            outcome.warnings.append(warning)  # type: ignore[attr-defined]
            self._warn(warning)

        def progress() -> None:
            for typ, fields in backend.take_new():
                ev = plan.event(typ, fields)
                if ev is None:
                    continue
                outcome.events.append(ev)
                if ev["type"] == "console":
                    outcome.console.append(ev["line"])
                if on_event is not None:
                    on_event(ev)

        try:
            results = backend.transact(plan.commands)
            for (typ, fields), res in zip(plan.commands, results, strict=True):
                if res.get("error") or (typ in _SETUP_TYPES and res["ret"] != 0):
                    raise CommandRejected(_setup_failure(plan, typ, fields, res["ret"]),
                                          res["ret"])
                if typ == p.CONNECT and res["ret"] != 0 and not fields["runtime"]:
                    raise CommandRejected(_setup_failure(plan, typ, fields, res["ret"]),
                                          res["ret"])
            outcome.started = True
            backend.run(run_ticks, progress)
            progress()
            outcome.stats = self._read_stats(backend, plan)
            up = backend.transact([(p.READ_UPTIME, {})])[0]
            outcome.uptime_ticks = int(up.get("ticks", 0))
            ev = _stats_event(plan, outcome.stats, outcome.uptime_ticks)
            outcome.events.append(ev)
            if on_event is not None:
                on_event(ev)
        except DeviceError as exc:
            outcome.error = str(exc)
            progress()
            for typ, fields in backend.reports():      # keep what came after a gap too
                ev = plan.event(typ, fields)
                if ev is not None:
                    outcome.events.append(ev)
                    if ev["type"] == "console":
                        outcome.console.append(ev["line"])
        fatal = [line for line in outcome.console if line.startswith("FATAL: ")]
        if fatal and outcome.error is None:
            outcome.error = "the firmware crashed: " + " / ".join(x[7:] for x in fatal)
        return outcome

    def _read_stats(self, backend: _Backend, plan: Plan) -> dict[str, Any]:
        stats: dict[str, Any] = {"sources": {}, "sinks": {}, "queues": {}, "pools": {}}
        kinds = [(p.KIND_SOURCE, "sources", plan.sources), (p.KIND_SINK, "sinks", plan.sinks),
                 (p.KIND_QUEUE, "queues", plan.queues), (p.KIND_POOL, "pools", plan.pools)]
        cmds = [(p.READ_STATS, {"kind": k, "id": i}) for k, _, names in kinds
                for i in range(len(names))]
        results = iter(backend.transact(cmds))
        for kind, key, names in kinds:
            for name in names:
                res = next(results)
                if res["ret"] == 0:
                    stats[key][name] = p.decode_stats(kind, res["data"])
        return stats


class DeviceExecutor(_ScenarioExecutor):
    """Runs scenarios on a board at a pyserial URL (``target`` is ``device`` or
    ``virtual-board`` as the board's HELLO tells)."""

    target = "device"

    def __init__(self, url: str, *, baudrate: int = 115200, timeout: float = 1.0,
                 retries: int = 5, run_timeout: float = 10.0, slack: float = 3.0,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.on_warning = on_warning
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.run_timeout = run_timeout
        self.slack = slack
        self.device: Device | None = None

    def connect(self) -> dict[str, Any]:
        """Open the port and do the handshake (if not done); the device's HELLO answer."""
        self._backend(None)
        assert self.device is not None and self.device.hello is not None
        return self.device.hello

    def _backend(self, board: str | None) -> _Backend:
        if self.device is None or not self.device.connected:
            if self.device is not None:
                self.device.close()
            self.device = open_device(self.url, baudrate=self.baudrate, timeout=self.timeout,
                                      retries=self.retries)
        backend = _DeviceBackend(self.device, self.run_timeout, self.slack)
        self.target = backend.target
        return backend

    def run(self, scenario: str | Path, **kwargs: Any) -> RunOutcome:  # noqa: D102
        try:
            return super().run(scenario, **kwargs)
        except DeviceError as exc:     # before the run started (open, HELLO)
            out = RunOutcome(target=self.target, board="?", ticks_per_sec=0, error=str(exc),
                             header={"type": "header", "format": "zsim-trace",
                                     "version": 1, "target": self.target,
                                     "scenario": str(scenario), "zsim": zsim_version})
            out.started = False
            return out

    def close(self) -> None:
        """Close the port."""
        if self.device is not None:
            self.device.close()
            self.device = None


class BridgeSimExecutor(_ScenarioExecutor):
    """The scenario's protocol commands executed on an in-process simulated board."""

    target = "simulator"

    def __init__(self, *, queue_size_override: int | None = None,
                 default_board: str = "native_sim", costs: str = "board") -> None:
        self.queue_size_override = queue_size_override
        self.default_board = default_board
        self.costs = costs

    def _backend(self, board: str | None) -> _Backend:
        return _LocalBackend(board or self.default_board, self.queue_size_override,
                             self.costs)
