"""Devices under test for the pytest plugin: one adapter per kind of device.

``DeviceAdapter`` holds what every kind shares (the line buffer, ``readline``,
``readlines``, ``readlines_until``, ``clear_buffer``); a subclass only says how the device
produces more lines (``_advance``), how it restarts (``reset``) and what ``write`` means:

- ``SimulatorAdapter``: a ``model.py`` on a fresh ``zsim.Kernel``, run in slices of
  virtual time until the awaited line appears (timeouts are virtual seconds);
- ``BridgeAdapter`` and its kinds ``LocalBoardAdapter`` (a ``topology.yaml`` on an
  in-process simulated board), ``VirtualBoardAdapter`` (``zsim board serve``) and
  ``HardwareAdapter`` (a board running the firmware shim): the board is driven through
  firmware_bridge, ``RUN`` in slices of board time; console reports are lines as printed,
  and the scenario's trace events become lines ``[tick N] <type> key=value ...``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 60.0
SLICE_SECONDS = 0.1


class DutError(Exception):
    """The device cannot do what was asked (bad model, unsupported operation, lost link)."""


class DutTimeout(DutError, TimeoutError):
    """What ``readline``/``readlines_until`` waited for did not come in time."""


class DeviceAdapter(ABC):
    """The ``dut``: console lines of one device, read with timeouts in device seconds."""

    kind = "device"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, echo: bool = True) -> None:
        self.base_timeout = timeout
        self.echo = echo
        self.history: list[str] = []        # every line the device produced
        self._buffer: deque[str] = deque()  # lines not read yet
        self._watch: Callable[[str], bool] | None = None

    # ------------------------------------------------------------ for subclasses
    def _line(self, line: str) -> bool:
        """Take one line from the device; True when a reader waits for exactly this."""
        self.history.append(line)
        self._buffer.append(line)
        return self._watch is not None and self._watch(line)

    @abstractmethod
    def now(self) -> float:
        """The device's clock in seconds (virtual time on simulated devices)."""

    @abstractmethod
    def _advance(self, deadline: float) -> bool:
        """Let the device run until ``deadline`` (device seconds) or until ``_line`` said
        a reader is satisfied; False when no more lines can ever come."""

    @abstractmethod
    def reset(self) -> None:
        """Restart the device from power-on; unread lines are dropped."""

    def write(self, data: bytes) -> None:
        """Send console input to the device."""
        raise DutError(f"{self.kind}: this device takes no console input")

    def close(self) -> None:
        """Release the device (ports, servers)."""
        return None

    # ------------------------------------------------------------ reading
    def _emit(self, lines: list[str], print_output: bool) -> list[str]:
        if print_output and self.echo:
            for line in lines:
                print(line)
        return lines

    def clear_buffer(self) -> None:
        """Forget the lines received and not read yet."""
        self._buffer.clear()

    def readlines(self, print_output: bool = True) -> list[str]:
        """The lines received and not read yet (does not wait)."""
        out = list(self._buffer)
        self._buffer.clear()
        return self._emit(out, print_output)

    def readline(self, timeout: float | None = None, print_output: bool = True) -> str:
        """The next line, waiting up to ``timeout`` device seconds for it."""
        return self.readlines_until(num_of_lines=1, timeout=timeout,
                                    print_output=print_output)[0]

    def readlines_until(self, regex: str | None = None, num_of_lines: int | None = None,
                        timeout: float | None = None, print_output: bool = True
                        ) -> list[str]:
        """Lines up to and including the first matching ``regex`` (searched anywhere in a
        line), or the next ``num_of_lines`` lines, waiting up to ``timeout`` device seconds
        (default: the base timeout). Without either, the lines received so far.

        Raises ``DutTimeout`` (lines stay unread) when the condition is not met in time."""
        if regex is None and num_of_lines is None:
            return self.readlines(print_output)
        if num_of_lines is not None and num_of_lines < 1:
            raise ValueError(f"num_of_lines must be at least 1, got {num_of_lines}")
        pattern = re.compile(regex) if regex is not None else None
        wait = self.base_timeout if timeout is None else float(timeout)
        deadline = self.now() + wait

        def satisfied() -> int:
            """How many buffered lines answer the request (0: not yet)."""
            if pattern is not None:
                for i, line in enumerate(self._buffer):
                    if pattern.search(line):
                        return i + 1
                return 0
            assert num_of_lines is not None
            return num_of_lines if len(self._buffer) >= num_of_lines else 0

        if pattern is not None:
            self._watch = lambda line: pattern.search(line) is not None
        else:
            self._watch = lambda line: len(self._buffer) >= num_of_lines  # type: ignore[operator]
        try:
            alive = True
            while not (n := satisfied()):
                if not alive or self.now() >= deadline:
                    raise DutTimeout(self._timeout_message(regex, num_of_lines, wait, alive))
                alive = self._advance(deadline)
        finally:
            self._watch = None
        out = [self._buffer.popleft() for _ in range(n)]
        return self._emit(out, print_output)

    def _timeout_message(self, regex: str | None, num: int | None, wait: float,
                         alive: bool) -> str:
        what = f"no line matching {regex!r}" if regex is not None else \
            f"fewer than {num} line(s)"
        why = "the device went idle: nothing can happen any more" if not alive else \
            f"within {wait:g} s of {self.clock_name}"
        last = self._buffer[-1] if self._buffer else (self.history[-1] if self.history
                                                      else None)
        tail = f"; last line: {last!r}" if last is not None else "; no output at all"
        return (f"{self.kind}: {what} ({why}, at {self.now():.3f} s; "
                f"{len(self._buffer)} unread line(s){tail})")

    clock_name = "device time"

    def __enter__(self) -> DeviceAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- simulator
class SimulatorAdapter(DeviceAdapter):
    """A ``model.py`` running on the kernel simulator; time is virtual."""

    kind = "simulator"
    clock_name = "virtual time"

    def __init__(self, model: str | Path, *, board: str = "native_sim", seed: int = 0,
                 config: dict[str, object] | str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, echo: bool = True,
                 slice_seconds: float = SLICE_SECONDS) -> None:
        super().__init__(timeout=timeout, echo=echo)
        self.model_path = Path(model)
        self.board = board
        self.seed = seed
        self.config = config
        self.slice_seconds = slice_seconds
        self.kernel: Any = None
        self.model: Any = None
        self._idle = False
        self.reset()

    def reset(self) -> None:
        """Load the model afresh on a new kernel and call its ``main(k)``."""
        from zsim import Kernel
        from zsim.model import load_model

        self.clear_buffer()
        model = load_model(self.model_path)
        k = Kernel(board=self.board, config=model.kernel_config(self.config), seed=self.seed)
        k.console.subscribe(self._on_console)
        self.model, self.kernel, self._idle = model, k, False
        model.main(k)

    def _on_console(self, line: str) -> None:
        if self._line(line):
            self.kernel.stop()

    def now(self) -> float:
        return self.kernel.uptime_ticks() / self.kernel.ticks_per_sec

    def _advance(self, deadline: float) -> bool:
        from zsim import K_TIMEOUT_ABS_TICKS
        if self._idle:
            return False
        k = self.kernel
        step = max(1, round(self.slice_seconds * k.ticks_per_sec))
        end = min(int(deadline * k.ticks_per_sec + 0.999999), k.uptime_ticks() + step)
        end = max(end, k.uptime_ticks() + 1)
        try:
            result = k.run(until=K_TIMEOUT_ABS_TICKS(end))
        except Exception as exc:   # a simulated thread crashed: the device is dead
            self._line(f"FATAL: {type(exc).__name__}: {exc}")
            self._idle = True
            return False
        k.console.flush()
        if result.reason == "idle":
            self._idle = True
            return False
        return True

    def write(self, data: bytes) -> None:
        """Hand ``data`` to the model's ``console_input(k, data)`` (run as a thread)."""
        hook = getattr(self.model.module, "console_input", None)
        if not callable(hook):
            raise DutError(f"{self.model.path}: defines no console_input(k, data); the "
                           "simulated console takes input only through that function")
        self.kernel.call(hook, self.kernel, bytes(data), name="console_input")


# ---------------------------------------------------------------------- bridge
def _event_line(ev: dict[str, Any]) -> str:
    if ev.get("type") == "console":
        return str(ev["line"])
    fields = " ".join(f"{k}={v}" for k, v in ev.items() if k not in ("type", "tick", "us"))
    return f"[tick {ev['tick']}] {ev['type']} {fields}".rstrip()


class BridgeAdapter(DeviceAdapter):
    """A board driven through firmware_bridge, optionally set up from a ``topology.yaml``."""

    kind = "board"

    def __init__(self, backend: Any, *, scenario: str | Path | None = None, seed: int = 0,
                 timeout: float = DEFAULT_TIMEOUT, echo: bool = True,
                 slice_seconds: float = SLICE_SECONDS) -> None:
        super().__init__(timeout=timeout, echo=echo)
        self.backend = backend
        self.scenario = Path(scenario) if scenario is not None else None
        self.seed = seed
        self.slice_seconds = slice_seconds
        self.ticks = 0
        self.plan: Any = None
        self.reset()

    @property
    def tps(self) -> int:
        return int(self.backend.tps)

    def now(self) -> float:
        return self.ticks / self.tps

    def reset(self) -> None:
        """RESET the board and build the scenario on it again."""
        from firmware_bridge import protocol as p
        from firmware_bridge.executor import merged_config
        from firmware_bridge.plan import Plan, build_plan
        from firmware_bridge.scenario import load_scenario

        self.clear_buffer()
        self.ticks = 0
        hello = getattr(self.backend, "hello", None) or {}
        if self.scenario is not None:
            sc = load_scenario(self.scenario)
            plan = build_plan(sc, self.tps, seed=self.seed, config=merged_config(sc, None),
                              hello=hello)
        else:
            plan = Plan(tps=self.tps)
            plan.commands.append((p.RESET, {"seed": self.seed & 0xFFFFFFFF, "flags": 1}))
        self.backend.take_new()         # reports of an earlier life are not this one's
        results = self._guard(lambda: self.backend.transact(plan.commands))
        for (typ, fields), res in zip(plan.commands, results, strict=True):
            if res.get("error") or (typ != p.CONNECT and res.get("ret", 0) < 0) or (
                    typ == p.CONNECT and res["ret"] != 0 and not fields.get("runtime")):
                name = fields.get("name") or fields.get("thread_name") or ""
                raise DutError(f"{self.kind}: the board refused {p.type_name(typ)} "
                               f"{name!r}: {res.get('ret')}")
        self.plan = plan
        self._collect()

    def _guard(self, fn: Callable[[], Any]) -> Any:
        from firmware_bridge.driver import DeviceError
        try:
            return fn()
        except DeviceError as exc:
            raise DutError(f"{self.kind}: {exc}") from exc

    def _collect(self) -> bool:
        hit = False
        for typ, fields in self.backend.take_new():
            ev = self.plan.event(typ, fields)
            if ev is not None:
                hit = self._line(_event_line(ev)) or hit
        return hit

    def _advance(self, deadline: float) -> bool:
        step = max(1, round(self.slice_seconds * self.tps))
        ticks = max(1, min(step, int(deadline * self.tps + 0.999999) - self.ticks))
        self._guard(lambda: self.backend.run(ticks, self._collect))
        self.ticks += ticks
        self._collect()
        return True


class LocalBoardAdapter(BridgeAdapter):
    """A ``topology.yaml`` on an in-process simulated board (no wire)."""

    kind = "simulated board"
    clock_name = "virtual time"

    def __init__(self, scenario: str | Path, *, board: str = "native_sim",
                 **kwargs: Any) -> None:
        from firmware_bridge.executor import _LocalBackend
        super().__init__(_LocalBackend(board), scenario=scenario, **kwargs)


class _RemoteAdapter(BridgeAdapter):
    def __init__(self, device: Any, **kwargs: Any) -> None:
        from firmware_bridge.executor import _DeviceBackend
        self.device = device
        super().__init__(_DeviceBackend(device, run_timeout=10.0, slack=3.0), **kwargs)

    def close(self) -> None:
        self.device.close()


class VirtualBoardAdapter(_RemoteAdapter):
    """``zsim board serve`` over a pyserial URL; time is the board's virtual time."""

    kind = "virtual board"
    clock_name = "board time"


class HardwareAdapter(_RemoteAdapter):
    """A real board running the firmware shim, over a serial port or pyserial URL."""

    kind = "hardware"
    clock_name = "board time"


def open_bridge_device(url: str, *, baudrate: int = 115200, **kwargs: Any) -> BridgeAdapter:
    """Connect to ``url`` and pick the adapter the board's HELLO asks for."""
    from firmware_bridge import protocol as p
    from firmware_bridge.driver import DeviceError, open_device

    try:
        dev = open_device(url, baudrate=baudrate)
    except DeviceError as exc:
        raise DutError(f"{url}: {exc}") from exc
    cls = VirtualBoardAdapter if (dev.hello or {}).get("features", 0) & p.FEAT_VIRTUAL \
        else HardwareAdapter
    try:
        return cls(dev, **kwargs)
    except BaseException:
        dev.close()
        raise


def find_model(start: str | Path, stop: str | Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` holding ``model.py`` or
    ``topology.yaml`` (not above ``stop``)."""
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    limit = Path(stop).resolve() if stop is not None else None
    for d in (here, *here.parents):
        if (d / "model.py").is_file() or (d / "topology.yaml").is_file():
            return d
        if limit is not None and d == limit:
            break
    return None


def open_dut(*, model: str | Path | None = None, device: str | None = None,
             board: str | None = None, baudrate: int = 115200, seed: int = 0,
             timeout: float = DEFAULT_TIMEOUT, echo: bool = True) -> DeviceAdapter:
    """The adapter for a device URL (virtual or real board) or, without one, the simulator
    (``model.py``) or an in-process simulated board (``topology.yaml``)."""
    if device:
        return open_bridge_device(device, baudrate=baudrate, scenario=model, seed=seed,
                                  timeout=timeout, echo=echo)
    if model is None:
        raise DutError("no model to simulate: give --zsim-model PATH (a directory with "
                       "model.py or topology.yaml) or --zsim-device URL")
    path = Path(model)
    if path.is_dir() and not (path / "model.py").is_file() and (path / "topology.yaml").is_file():
        return LocalBoardAdapter(path, board=board or "native_sim", seed=seed,
                                 timeout=timeout, echo=echo)
    if path.suffix in (".yaml", ".yml"):
        return LocalBoardAdapter(path, board=board or "native_sim", seed=seed,
                                 timeout=timeout, echo=echo)
    return SimulatorAdapter(path, board=board or "native_sim", seed=seed, timeout=timeout,
                            echo=echo)


__all__ = [
    "BridgeAdapter", "DeviceAdapter", "DutError", "DutTimeout", "HardwareAdapter",
    "LocalBoardAdapter", "SimulatorAdapter", "VirtualBoardAdapter", "find_model", "open_dut",
    "open_bridge_device",
]
