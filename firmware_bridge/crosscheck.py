"""Cross-check: one scenario on two executors, every divergence reported.

Two traces agree when, per sink, the sequence of (``len``, ``digest``) of its ``deliver``
and ``handle`` events is the same, as are its drop count, each source's sequence of send
return codes, the script step results, the final stats, and the ticks of matching events
within ``tolerance_ticks`` (docs/trace-format.md).

Both sides run the same ``topology.yaml`` (a device can run nothing else): a directory
holding both ``model.py`` and ``topology.yaml`` is cross-checked through its
``topology.yaml``, on the simulator too, for the scenario's ``duration:`` or 10 s.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from zsim.boards import load_board
from zsim.executor import Executor, RunOutcome
from zsim.kernel.time_units import Timeout
from zsim.output_paths import check_file_outputs

from .scenario import ScenarioError, load_scenario

MAX_TIMING_REPORTS = 5


@dataclass
class Divergence:
    """One way the two runs differ."""

    kind: str            # deliveries | drops | returns | steps | stats | timing | events
    where: str           # the sink, source, queue or counter concerned
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


@dataclass
class CrosscheckResult:
    """Both outcomes and what differs between them."""

    scenario: str
    reference: RunOutcome | None
    device: RunOutcome | None
    divergences: list[Divergence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tolerance_ticks: int = 0
    run_failed: bool = False         # an error after a run started (else: nothing ran)

    @property
    def exit_code(self) -> int:
        """0 agree, 1 diverge, 2 an error before anything ran, 3 a run failed."""
        if self.errors:
            return 3 if self.run_failed else 2
        return 1 if self.divergences else 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {"scenario": self.scenario, "exit_code": self.exit_code,
                "tolerance_ticks": self.tolerance_ticks, "errors": self.errors,
                "divergences": [vars(d) for d in self.divergences],
                "targets": [o.target for o in (self.reference, self.device) if o is not None]}


def _by(events: list[dict[str, Any]], types: tuple[str, ...], key: str
        ) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in events:
        if ev.get("type") in types and key in ev:
            out[str(ev[key])].append(ev)
    return out


def _seq_diff(kind: str, where: str, a: list[Any], b: list[Any], names: tuple[str, str],
              what: str) -> Divergence | None:
    if a == b:
        return None
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return Divergence(kind, where, f"{what} #{i} differs: {names[0]} {x}, "
                                           f"{names[1]} {y} ({len(a)} vs {len(b)} in all)")
    n = min(len(a), len(b))
    extra, who = (a[n:], names[0]) if len(a) > len(b) else (b[n:], names[1])
    return Divergence(kind, where, f"{names[0]} has {len(a)} {what}(s), {names[1]} {len(b)}; "
                                   f"first extra on {who}: {extra[0]}")


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def compare(a: RunOutcome, b: RunOutcome, *, tolerance_ticks: int = 0) -> list[Divergence]:
    """Every divergence between two outcomes of the same scenario (``a`` is the reference)."""
    names = (a.target, b.target if b.target != a.target else f"{b.target}(2)")
    out: list[Divergence] = []
    scale = (a.ticks_per_sec / b.ticks_per_sec) if a.ticks_per_sec and b.ticks_per_sec else 1.0

    def tick_b(ev: dict[str, Any]) -> float:
        return ev["tick"] * scale

    # per-sink deliveries and handles, in order, with their timing
    da, db = (_by(o.events, ("deliver", "handle"), "sink") for o in (a, b))
    timing: list[Divergence] = []
    for sink in sorted(set(da) | set(db)):
        xa = [(e["type"], e.get("len"), e.get("digest")) for e in da.get(sink, [])]
        xb = [(e["type"], e.get("len"), e.get("digest")) for e in db.get(sink, [])]
        d = _seq_diff("deliveries", sink, xa, xb, names, "delivery")
        if d:
            out.append(d)
        for i, (ea, eb) in enumerate(zip(da.get(sink, []), db.get(sink, []), strict=False)):
            if abs(ea["tick"] - tick_b(eb)) > tolerance_ticks:
                timing.append(Divergence("timing", sink, f"delivery #{i}: tick {ea['tick']} "
                                         f"on {names[0]}, {eb['tick']} on {names[1]} (more "
                                         f"than {tolerance_ticks} apart)"))
    # drops per sink
    pa, pb = (_by(o.events, ("drop",), "sink") for o in (a, b))
    for sink in sorted(set(pa) | set(pb)):
        na, nb = len(pa.get(sink, [])), len(pb.get(sink, []))
        if na != nb:
            out.append(Divergence("drops", sink, f"{na} drop(s) on {names[0]}, {nb} on "
                                                 f"{names[1]}"))
    # send return codes per source
    sa, sb = (_by(o.events, ("send",), "source") for o in (a, b))
    for src in sorted(set(sa) | set(sb)):
        d = _seq_diff("returns", src, [e["ret"] for e in sa.get(src, [])],
                      [e["ret"] for e in sb.get(src, [])], names, "send return")
        if d:
            out.append(d)
        for i, (ea, eb) in enumerate(zip(sa.get(src, []), sb.get(src, []), strict=False)):
            if abs(ea["tick"] - tick_b(eb)) > tolerance_ticks:
                timing.append(Divergence("timing", src, f"send #{i}: tick {ea['tick']} on "
                                         f"{names[0]}, {eb['tick']} on {names[1]}"))
    # queue processes that ran nothing, script steps, faults (when both targets report them)
    for typ, key, kind, fn in (("process", "queue", "returns", lambda e: e["ret"]),
                               ("step", "stimulus", "steps", lambda e: (e["op"], e["ret"])),
                               ("fault", "sink", "faults", lambda e: e["type"]),
                               ("alloc_fail", "pool", "allocations", lambda e: e["origin"])):
        ea_, eb_ = (_by(o.events, (typ,), key) for o in (a, b))
        if typ == "step" and (not ea_ or not eb_):
            continue
        for k in sorted(set(ea_) | set(eb_)):
            d = _seq_diff(kind, k, [fn(e) for e in ea_.get(k, [])],
                          [fn(e) for e in eb_.get(k, [])], names, typ.replace("_", " "))
            if d:
                out.append(d)
    # final stats
    fa, fb = _flatten(a.stats), _flatten(b.stats)
    for key in sorted(set(fa) | set(fb)):
        if key in fa and key in fb and fa[key] != fb[key]:
            out.append(Divergence("stats", key, f"{fa[key]} on {names[0]}, {fb[key]} on "
                                               f"{names[1]}"))
        elif (key in fa) != (key in fb) and not key.startswith("pools."):
            have = names[0] if key in fa else names[1]
            out.append(Divergence("stats", key, f"only {have} reports it"))
    if timing:
        out.extend(timing[:MAX_TIMING_REPORTS])
        if len(timing) > MAX_TIMING_REPORTS:
            out.append(Divergence("timing", "*", f"{len(timing) - MAX_TIMING_REPORTS} more "
                                                 "timing differences"))
    return out


def simulator_executor(*, require_zsim: bool = False, **kwargs: Any) -> Executor:
    """The zsim simulator's executor when zsim provides one, else the bridge's own."""
    for mod, name in (("zsim.sim_executor", "SimulatorExecutor"),
                      ("zsim.executor", "SimulatorExecutor")):
        try:
            cls = getattr(__import__(mod, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
        try:
            return cls()
        except TypeError:
            continue
    if require_zsim:
        raise ValueError("this zsim has no SimulatorExecutor (zsim.sim_executor)")
    from .executor import BridgeSimExecutor
    return BridgeSimExecutor(**kwargs)


def resolve_scenario(path: str | Path) -> Path:
    """The ``topology.yaml`` both sides of a cross-check run (a ``ScenarioError`` when
    ``path`` holds none: a device cannot run ``model.py``)."""
    p = Path(path)
    if p.is_dir():
        topo = p / "topology.yaml"
        if topo.is_file():
            return topo
        has_model = (p / "model.py").is_file()
        raise ScenarioError([f"{p}: no topology.yaml here" + (
            "; crosscheck runs the same topology.yaml on the device and the simulator, "
            "and a device cannot run model.py" if has_model else "")])
    if p.suffix == ".py":
        raise ScenarioError([f"{p}: crosscheck runs a topology.yaml on both sides; a "
                             "device cannot run a Python model"])
    if not p.is_file():
        raise ScenarioError([f"{p}: no such file or directory"])
    return p


def trace_paths(trace_dir: str | Path, inputs: list[Path]) -> dict[str, Path]:
    """The files ``--trace-dir`` names, checked (``OutputPathError``) before anything runs."""
    d = Path(trace_dir)
    if not d.is_dir():             # created at the end: it must be able to be
        check_file_outputs({"--trace-dir": d}, inputs)
    paths = {name: d / f"{name}.jsonl" for name in ("simulator", "device")}
    if d.is_dir():
        check_file_outputs({f"--trace-dir {p}": p for p in paths.values()}, inputs)
    return paths


def _write(outcome: RunOutcome, path: Path) -> None:
    from zsim.export.atomic import atomic_write

    from .executor import write_trace
    path.parent.mkdir(exist_ok=True)
    with atomic_write(path) as f:
        write_trace(outcome, f)


def crosscheck(scenario: str | Path, device: str | Executor, *, board: str | None = None,
               tolerance_ticks: int = 0, duration: Timeout | None = None, seed: int = 0,
               reference: Executor | None = None, baudrate: int = 115200,
               timeout: float = 1.0, retries: int = 5, trace_dir: str | Path | None = None,
               on_event: Callable[[dict[str, Any]], None] | None = None) -> CrosscheckResult:
    """Run ``scenario``'s topology.yaml (``resolve_scenario``) on the device (a URL or an
    executor) and on the simulator, for ``duration`` (else the scenario's, else 10 s), and
    compare. Bad input (the scenario, ``trace_dir``) raises before anything runs; the
    traces are written whole at the end, only when the device's run started."""
    from .executor import DEFAULT_DURATION, DeviceExecutor

    file = resolve_scenario(scenario)
    sc = load_scenario(file)
    if board is not None:
        load_board(board)                   # an unknown board is bad input
    if tolerance_ticks < 0:
        raise ValueError(f"tolerance_ticks must be >= 0, not {tolerance_ticks}")
    paths = trace_paths(trace_dir, [Path(scenario), file, file.parent]) \
        if trace_dir is not None else {}
    duration = duration or sc.duration or DEFAULT_DURATION
    result = CrosscheckResult(str(scenario), None, None, tolerance_ticks=tolerance_ticks)
    dev_ex = device if isinstance(device, Executor) else DeviceExecutor(
        device, baudrate=baudrate, timeout=timeout, retries=retries)
    try:
        _run_both(result, file, dev_ex, board, reference, duration, seed, on_event)
    finally:
        if not isinstance(device, Executor):
            dev_ex.close()
    if result.device is not None and getattr(result.device, "started", True):
        for o, name in ((result.reference, "simulator"), (result.device, "device")):
            if o is not None and name in paths:
                _write(o, paths[name])
    return result


def _run_both(result: CrosscheckResult, file: Path, dev_ex: Executor, board: str | None,
              reference: Executor | None, duration: Timeout, seed: int,
              on_event: Callable[[dict[str, Any]], None] | None) -> None:
    try:
        result.device = dev_ex.run(file, duration=duration, seed=seed, on_event=on_event)
    except (ValueError, OSError) as exc:
        result.errors.append(f"device: {exc}")
        return
    if result.device.error:
        result.errors.append(f"{result.device.target}: {result.device.error}")
        result.run_failed = getattr(result.device, "started", True)
        return
    sim_board = board or result.device.board
    ref = reference or simulator_executor()
    try:
        result.reference = ref.run(file, board=sim_board, duration=duration, seed=seed)
    except (ValueError, OSError) as exc:
        result.errors.append(f"simulator: {exc}")
        return
    finally:
        ref.close()
    if result.reference.error:
        result.errors.append(f"simulator: {result.reference.error}")
        result.run_failed = True
        return
    result.divergences = compare(result.reference, result.device,
                                 tolerance_ticks=result.tolerance_ticks)


def print_report(result: CrosscheckResult, out: IO[str]) -> None:
    """A readable report of a cross-check."""
    ref, dev = result.reference, result.device
    for o in (ref, dev):
        if o is not None:
            kinds = defaultdict(int)
            for e in o.events:
                kinds[e["type"]] += 1
            print(f"{o.target:>14}: {o.board}, {o.uptime_ticks} ticks, {len(o.events)} events "
                  f"({kinds['send']} sends, {kinds['deliver'] + kinds['handle']} handler runs, "
                  f"{kinds['drop']} drops)", file=out)
    for err in result.errors:
        print(f"error: {err}", file=out)
    for d in result.divergences:
        print(f"DIVERGENCE {d}", file=out)
    if result.exit_code == 0:
        print(f"agree (tolerance {result.tolerance_ticks} ticks)", file=out)
    elif result.exit_code == 1:
        print(f"{len(result.divergences)} divergence(s)", file=out)
    out.flush()


def dumps(result: CrosscheckResult) -> str:
    """The result as JSON text."""
    return json.dumps(result.to_json(), indent=1)
