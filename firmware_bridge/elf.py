"""Recover the static topology of a packet_io firmware from its ELF image.

What packet_io leaves in a linked image:

- every ``PACKET_SOURCE_DEFINE`` is a ``struct packet_source`` whose ``sinks`` list head is
  statically initialised to point at itself; every sink a ``struct packet_sink`` holding its
  mode, handler, user data and ``k_msgq`` pointer; every ``PACKET_EVENT_QUEUE_DEFINE`` a
  ``k_msgq`` named ``<queue>_msgq`` (its ``max_msgs`` is the queue size) plus a
  ``struct packet_event_queue`` pointing at it;
- every ``PACKET_SOURCE_CONNECT`` a ``struct packet_connection`` in the iterable output section
  ``packet_connection_area`` between ``_packet_connection_list_start`` and
  ``_packet_connection_list_end``, in the order the linker sorted the input sections
  ``._packet_connection.static.*`` by name. ``packet_io``'s init walks that area in order and
  appends each connection to its source's list, so the area order is the delivery order;
- with ``CONFIG_PACKET_IO_NAMES=y`` a ``name`` pointer first in sources and sinks (after the
  ``k_msgq`` pointer in queues).

With DWARF the structures' member offsets and the variables of each type come from the debug
information; without it the layout follows from the pointer size and the names option (found
by looking at the first sink), and objects are found from the connections and from their
static initialisers. 32- and 64-bit little-endian images are supported; Thumb function
pointers are resolved with their low bit cleared; position-independent images have their
dynamic relative and absolute relocations applied before pointers are read.
"""

from __future__ import annotations

import re
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from zsim.errors import ZsimError

__all__ = [
    "ElfTopologyError",
    "Connection",
    "Queue",
    "Sink",
    "Source",
    "Topology",
    "read_topology",
    "topology_to_yaml",
]

CONNECTION_SECTIONS = ("packet_connection_area", "_packet_connection_area")
LIST_START = "_packet_connection_list_start"
LIST_END = "_packet_connection_list_end"
INPUT_SECTION_PREFIX = "._packet_connection.static."

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WANTED_STRUCTS = ("packet_source", "packet_sink", "packet_connection", "packet_event_queue",
                   "k_msgq")

# Relocation types that resolve to "load base + addend" or "symbol + addend", per machine.
_RELATIVE = {"EM_X86_64": {8}, "EM_386": {8}, "EM_ARM": {23}, "EM_AARCH64": {1027},
             "EM_RISCV": {3}}
_ABSOLUTE = {"EM_X86_64": {1}, "EM_386": {1}, "EM_ARM": {2}, "EM_AARCH64": {257},
             "EM_RISCV": {1, 2}}


class ElfTopologyError(ZsimError, ValueError):
    """An image that cannot be read, or that holds no packet_io objects."""


@dataclass
class Source:
    name: str
    symbol: str | None
    address: int


@dataclass
class Queue:
    name: str
    symbol: str | None            # the struct packet_event_queue, when there is one
    address: int | None
    msgq_symbol: str | None       # the k_msgq
    msgq_address: int
    size: int | None              # max_msgs
    msg_size: int | None


@dataclass
class Sink:
    name: str
    symbol: str | None
    address: int
    mode: str                     # "immediate" | "queued" | "unknown(N)"
    handler: str | None           # function name, "NULL", or a hex address
    handler_address: int
    queue: str | None
    user_data: str | None         # symbol (+offset), hex address, or None for NULL


@dataclass
class Connection:
    source: str
    sink: str
    symbol: str | None
    address: int


@dataclass
class Topology:
    """What the reader found. Lists of sources, sinks and queues are sorted by name;
    ``connections`` is in link order (the order packet_io wires them at init)."""

    path: str
    elf_class: int
    machine: str
    has_dwarf: bool
    names: bool
    xip: bool
    connection_section: str | None
    sources: list[Source] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- image access


@dataclass
class _Sym:
    name: str
    value: int
    size: int
    kind: str                     # STT_OBJECT, STT_FUNC, STT_NOTYPE, ...
    bind: str


@dataclass
class _Sec:
    name: str
    addr: int
    size: int
    data: bytes | None            # None for NOBITS (reads as zeros)
    writable: bool
    executable: bool
    lma: int


class _Image:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ElfTopologyError(f"{path}: {exc.strerror or exc}") from None
        if raw[:4] != b"\x7fELF":
            raise ElfTopologyError(f"{path}: not an ELF file")
        import io

        try:
            self.elf = ELFFile(io.BytesIO(raw))
        except ELFError as exc:
            raise ElfTopologyError(f"{path}: unreadable ELF file ({exc})") from None
        if not self.elf.little_endian:
            raise ElfTopologyError(f"{path}: big-endian ELF images are not supported")
        self.ptr = self.elf.elfclass // 8
        self.machine = self.elf["e_machine"]
        self.thumb = self.machine == "EM_ARM"
        self._wfmt = "<Q" if self.ptr == 8 else "<I"
        self.sections: list[_Sec] = []
        self._load_sections()
        self.symbols: list[_Sym] = []
        self._load_symbols()
        self._by_name: dict[str, _Sym] = {}
        self._by_addr: dict[int, list[_Sym]] = {}
        for s in self.symbols:
            self._by_name.setdefault(s.name, s)
            self._by_addr.setdefault(s.value, []).append(s)
        self._relocs: dict[int, int] = {}
        if self.elf["e_type"] == "ET_DYN":
            self._load_relocs()

    def _load_sections(self) -> None:
        loads = [seg for seg in self.elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        for sec in self.elf.iter_sections():
            flags = sec["sh_flags"]
            if not flags & 0x2 or sec["sh_size"] == 0:        # SHF_ALLOC
                continue
            addr = sec["sh_addr"]
            lma = addr
            for seg in loads:
                if seg["p_vaddr"] <= addr < seg["p_vaddr"] + max(seg["p_memsz"], 1):
                    lma = seg["p_paddr"] + (addr - seg["p_vaddr"])
                    break
            nobits = sec["sh_type"] == "SHT_NOBITS"
            self.sections.append(_Sec(sec.name, addr, sec["sh_size"],
                                      None if nobits else sec.data(), bool(flags & 0x1),
                                      bool(flags & 0x4), lma))

    def _load_symbols(self) -> None:
        tables = [s for s in self.elf.iter_sections() if isinstance(s, SymbolTableSection)]
        tables.sort(key=lambda s: s.name != ".symtab")       # the full table first
        seen: set[tuple[str, int]] = set()
        for tab in tables:
            for sym in tab.iter_symbols():
                name = sym.name
                kind = sym["st_info"]["type"]
                if not name or name.startswith("$") or kind in ("STT_SECTION", "STT_FILE"):
                    continue
                if (name, sym["st_value"]) in seen:
                    continue
                seen.add((name, sym["st_value"]))
                value = sym["st_value"]
                if self.thumb and kind == "STT_FUNC":
                    value &= ~1
                self.symbols.append(_Sym(name, value, sym["st_size"], kind,
                                         sym["st_info"]["bind"]))

    def _load_relocs(self) -> None:
        relative = _RELATIVE.get(self.machine, set())
        absolute = _ABSOLUTE.get(self.machine, set())
        for sec in self.elf.iter_sections():
            if sec["sh_type"] not in ("SHT_RELA", "SHT_REL") or not sec["sh_flags"] & 0x2:
                continue
            symtab = None
            if sec["sh_link"]:
                symtab = self.elf.get_section(sec["sh_link"])
            for rel in sec.iter_relocations():
                rtype = rel["r_info_type"]
                off = rel["r_offset"]
                addend = rel["r_addend"] if rel.is_RELA() else self._raw_word(off) or 0
                if rtype in relative:
                    self._relocs[off] = addend
                elif rtype in absolute and symtab is not None:
                    sym = symtab.get_symbol(rel["r_info_sym"])
                    self._relocs[off] = sym["st_value"] + (addend if rel.is_RELA() else 0)

    # reads ------------------------------------------------------------------------------

    def section_at(self, addr: int) -> _Sec | None:
        for sec in self.sections:
            if sec.addr <= addr < sec.addr + sec.size:
                return sec
        return None

    def section(self, name: str) -> _Sec | None:
        for sec in self.sections:
            if sec.name == name:
                return sec
        return None

    def read(self, addr: int, n: int) -> bytes | None:
        sec = self.section_at(addr)
        if sec is None or addr + n > sec.addr + sec.size:
            return None
        if sec.data is None:
            return bytes(n)
        off = addr - sec.addr
        return sec.data[off:off + n]

    def _raw_word(self, addr: int) -> int | None:
        b = self.read(addr, self.ptr)
        return None if b is None else struct.unpack(self._wfmt, b)[0]

    def word(self, addr: int) -> int | None:
        if addr in self._relocs:
            return self._relocs[addr]
        return self._raw_word(addr)

    def uint(self, addr: int, size: int) -> int | None:
        b = self.read(addr, size)
        return None if b is None else int.from_bytes(b, "little")

    def cstring(self, addr: int, limit: int = 128) -> str | None:
        """The NUL-terminated C identifier at ``addr``, or None."""
        if not addr:
            return None
        sec = self.section_at(addr)
        if sec is None or sec.data is None:
            return None
        off = addr - sec.addr
        end = sec.data.find(b"\0", off, off + limit + 1)
        if end < 0:
            return None
        try:
            text = sec.data[off:end].decode("ascii")
        except UnicodeDecodeError:
            return None
        return text if _IDENT.match(text) else None

    # symbols ----------------------------------------------------------------------------

    def symbol(self, name: str) -> _Sym | None:
        return self._by_name.get(name)

    def symbol_at(self, addr: int, kind: str | None = None) -> _Sym | None:
        """The best symbol starting exactly at ``addr`` (objects and functions first)."""
        cands = self._by_addr.get(addr, [])
        if kind:
            cands = [s for s in cands if s.kind == kind]
        if not cands:
            return None
        rank = {"STT_OBJECT": 0, "STT_FUNC": 0, "STT_NOTYPE": 2}
        return min(cands, key=lambda s: (rank.get(s.kind, 1), s.bind != "STB_GLOBAL",
                                         s.name.startswith("_"), s.name))

    def symbol_containing(self, addr: int) -> _Sym | None:
        best = None
        for s in self.symbols:
            if s.kind == "STT_OBJECT" and s.value <= addr < s.value + max(s.size, 1):
                if best is None or s.value > best.value:
                    best = s
        return best

    def describe(self, addr: int) -> str:
        """``symbol``, ``symbol+off`` or a hex address."""
        s = self.symbol_at(addr) or self.symbol_containing(addr)
        if s is None:
            return f"0x{addr:x}"
        return s.name if s.value == addr else f"{s.name}+{addr - s.value}"

    def function_name(self, addr: int) -> str | None:
        if self.thumb:
            addr &= ~1
        s = self.symbol_at(addr, "STT_FUNC") or self.symbol_at(addr)
        return s.name if s else None


# --------------------------------------------------------------------------- layouts


@dataclass
class _Layout:
    ptr: int
    names: bool
    source_name: int | None = None
    source_sinks: int = 0
    sink_name: int | None = None
    sink_mode: int = 0
    sink_mode_size: int = 4
    sink_handler: int = 0
    sink_user_data: int = 0
    sink_msgq: int = 0
    sink_size: int | None = None
    queue_msgq: int = 0
    queue_name: int | None = None
    queue_size: int | None = None
    conn_source: int = 0
    conn_sink: int = 0
    conn_node: int = 0
    conn_stride: int = 0
    msgq_msg_size: int | None = None
    msgq_max_msgs: int | None = None
    msgq_msg_size_size: int = 0

    @classmethod
    def guess(cls, ptr: int, names: bool) -> _Layout:
        p = ptr
        lay = cls(ptr=p, names=names)
        base = p if names else 0
        lay.source_name = 0 if names else None
        lay.source_sinks = base
        lay.sink_name = 0 if names else None
        lay.sink_mode = base
        lay.sink_handler = _align(base + 4, p)
        lay.sink_user_data = lay.sink_handler + p
        lay.sink_msgq = lay.sink_handler + 2 * p
        lay.queue_msgq = 0
        lay.queue_name = p if names else None
        lay.conn_source, lay.conn_sink, lay.conn_node, lay.conn_stride = 0, p, 2 * p, 4 * p
        lay.msgq_msg_size_size = p
        return lay


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


# --------------------------------------------------------------------------- DWARF


@dataclass
class _DwarfFacts:
    structs: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _attr(die: Any, name: str) -> Any:
    a = die.attributes.get(name)
    return None if a is None else a.value


def _die_name(die: Any) -> str | None:
    v = _attr(die, "DW_AT_name")
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def _ref(die: Any, name: str) -> Any:
    if name not in die.attributes:
        return None
    try:
        return die.get_DIE_from_attribute(name)
    except Exception:           # a reference pyelftools cannot follow
        return None


def _struct_of(die: Any) -> Any:
    """Follow typedef/const/volatile to a structure type DIE."""
    for _ in range(16):
        if die is None:
            return None
        if die.tag == "DW_TAG_structure_type":
            return die
        if die.tag not in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
                           "DW_TAG_atomic_type"):
            return None
        die = _ref(die, "DW_AT_type")
    return None


def _member_offset(die: Any) -> int | None:
    v = _attr(die, "DW_AT_data_member_location")
    if isinstance(v, int):
        return v
    if isinstance(v, list) and v and v[0] == 0x23:       # DW_OP_plus_uconst (DWARF 2)
        out, shift = 0, 0
        for b in v[1:]:
            out |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return out
    return None


def _location_addr(die: Any, addr_size: int) -> int | None:
    v = _attr(die, "DW_AT_location")
    if isinstance(v, list) and len(v) == 1 + addr_size and v[0] == 0x03:     # DW_OP_addr
        return int.from_bytes(bytes(v[1:]), "little")
    return None


def _read_dwarf(img: _Image) -> _DwarfFacts | None:
    if not img.elf.has_dwarf_info():
        return None
    try:
        dwarf = img.elf.get_dwarf_info()
        if not dwarf.has_debug_info:
            return None
        facts = _DwarfFacts()
        for cu in dwarf.iter_CUs():
            for die in cu.get_top_DIE().iter_children():
                if die.tag == "DW_TAG_structure_type":
                    name = _die_name(die)
                    if (name in _WANTED_STRUCTS and name not in facts.structs
                            and not _attr(die, "DW_AT_declaration")):
                        members = {}
                        sizes = {}
                        for m in die.iter_children():
                            mname = _die_name(m)
                            off = _member_offset(m)
                            if m.tag == "DW_TAG_member" and mname and off is not None:
                                members[mname] = off
                                t = _ref(m, "DW_AT_type")
                                sizes[mname] = _attr(t, "DW_AT_byte_size") if t else None
                        facts.structs[name] = {"size": _attr(die, "DW_AT_byte_size"),
                                               "members": members, "sizes": sizes}
                elif die.tag == "DW_TAG_variable":
                    addr = _location_addr(die, cu["address_size"])
                    spec = _ref(die, "DW_AT_specification") or die
                    name = _die_name(die) or _die_name(spec)
                    if name is None:
                        continue
                    st = _struct_of(_ref(spec, "DW_AT_type"))
                    sname = _die_name(st) if st is not None else None
                    if sname not in _WANTED_STRUCTS:
                        continue
                    if addr is None:
                        if _attr(spec, "DW_AT_declaration") and die is spec:
                            continue
                        sym = img.symbol(name)
                        if sym is None:
                            continue
                        addr = sym.value
                    lst = facts.variables.setdefault(sname, [])
                    if (name, addr) not in lst:
                        lst.append((name, addr))
        return facts
    except (ELFError, KeyError, ValueError, IndexError, AttributeError):
        return None


def _layout_from_dwarf(img: _Image, facts: _DwarfFacts) -> _Layout | None:
    src = facts.structs.get("packet_source")
    snk = facts.structs.get("packet_sink")
    con = facts.structs.get("packet_connection")
    if not (src or snk or con):
        return None
    names = bool(snk and "name" in snk["members"]) or bool(src and "name" in src["members"])
    lay = _Layout.guess(img.ptr, names)
    if src:
        m = src["members"]
        lay.source_name = m.get("name")
        lay.source_sinks = m.get("sinks", lay.source_sinks)
    if snk:
        m = snk["members"]
        lay.sink_name = m.get("name")
        lay.sink_mode = m.get("mode", lay.sink_mode)
        lay.sink_mode_size = snk["sizes"].get("mode") or 4
        lay.sink_handler = m.get("handler", lay.sink_handler)
        lay.sink_user_data = m.get("user_data", lay.sink_user_data)
        lay.sink_msgq = m.get("msgq", lay.sink_msgq)
        lay.sink_size = snk["size"]
    q = facts.structs.get("packet_event_queue")
    if q:
        lay.queue_msgq = q["members"].get("msgq", 0)
        lay.queue_name = q["members"].get("name")
        lay.queue_size = q["size"]
    if con:
        m = con["members"]
        lay.conn_source = m.get("source", 0)
        lay.conn_sink = m.get("sink", img.ptr)
        lay.conn_node = m.get("node", 2 * img.ptr)
        lay.conn_stride = con["size"] or 4 * img.ptr
    mq = facts.structs.get("k_msgq")
    if mq and "max_msgs" in mq["members"]:
        lay.msgq_max_msgs = mq["members"]["max_msgs"]
        lay.msgq_msg_size = mq["members"].get("msg_size")
        lay.msgq_msg_size_size = mq["sizes"].get("msg_size") or img.ptr
    return lay


# --------------------------------------------------------------------------- the reader


class _Reader:
    def __init__(self, path: Path) -> None:
        self.img = _Image(path)
        self.warnings: list[str] = []
        self.facts = _read_dwarf(self.img)
        self.lay: _Layout | None = None
        if self.facts is not None:
            self.lay = _layout_from_dwarf(self.img, self.facts)
        self.sources: dict[int, Source] = {}
        self.sinks: dict[int, Sink] = {}
        self.queues: dict[int, Queue] = {}          # by k_msgq address
        self._queue_objs: dict[int, tuple[str | None, int]] = {}   # msgq addr -> (sym, addr)

    # -- the connection area ------------------------------------------------------------

    def connection_area(self) -> tuple[str | None, int, int] | None:
        img = self.img
        start, end = img.symbol(LIST_START), img.symbol(LIST_END)
        sec = None
        for name in CONNECTION_SECTIONS:
            sec = img.section(name)
            if sec is not None:
                break
        if start is not None and end is not None:
            holder = img.section_at(start.value) or sec
            return (holder.name if holder else None), start.value, end.value
        if sec is not None:
            return sec.name, sec.addr, sec.addr + sec.size
        return None

    def names_on(self, first_sink: int | None) -> bool:
        """Without DWARF: a sink starts with a name pointer when PACKET_IO_NAMES is on,
        with its mode (0 or 1) otherwise."""
        if first_sink is None:
            return False
        w = self.img.word(first_sink)
        return w is not None and self.img.cstring(w) is not None

    # -- objects -------------------------------------------------------------------------

    def _name(self, addr: int, name_off: int | None, kind: str) -> tuple[str, str | None]:
        img = self.img
        sym = img.symbol_at(addr, "STT_OBJECT") or img.symbol_at(addr)
        symname = sym.name if sym else None
        if name_off is not None:
            ptr = img.word(addr + name_off)
            text = img.cstring(ptr) if ptr else None
            if text:
                if symname and text != symname:
                    self.warnings.append(f"{kind} {symname} is named {text!r} in the image")
                return text, symname
        if symname and _IDENT.match(symname):
            return symname, symname
        return f"{kind}_{addr:x}", symname

    def source(self, addr: int) -> Source:
        if addr not in self.sources:
            name, sym = self._name(addr, self.lay.source_name, "source")
            self.sources[addr] = Source(name, sym, addr)
        return self.sources[addr]

    def sink(self, addr: int) -> Sink:
        if addr in self.sinks:
            return self.sinks[addr]
        img, lay = self.img, self.lay
        name, sym = self._name(addr, lay.sink_name, "sink")
        mode_raw = img.uint(addr + lay.sink_mode, lay.sink_mode_size)
        handler = img.word(addr + lay.sink_handler) or 0
        user = img.word(addr + lay.sink_user_data) or 0
        msgq = img.word(addr + lay.sink_msgq) or 0
        mode = {0: "immediate", 1: "queued"}.get(mode_raw, f"unknown({mode_raw})")
        if handler:
            hname = img.function_name(handler) or f"0x{handler:x}"
        else:
            hname = "NULL"
            self.warnings.append(f"sink {name} has no handler: packet_io rejects its "
                                 "deliveries with -EINVAL")
        queue = None
        if mode == "queued":
            if msgq:
                queue = self.queue(msgq).name
            else:
                self.warnings.append(f"sink {name} is queued but has no k_msgq: packet_io "
                                     "returns -ENOSYS for it")
        elif mode != "immediate":
            self.warnings.append(f"sink {name} has an unknown mode {mode_raw}: packet_io "
                                 "returns -ENOTSUP for it")
        s = Sink(name, sym, addr, mode, hname, handler, queue,
                 img.describe(user) if user else None)
        self.sinks[addr] = s
        return s

    def _msgq_params(self, addr: int) -> tuple[int | None, int | None]:
        """(max_msgs, msg_size) of the k_msgq at ``addr``."""
        img, lay = self.img, self.lay
        p = img.ptr
        if lay.msgq_max_msgs is not None:
            mx = img.uint(addr + lay.msgq_max_msgs, 4)
            ms = (img.uint(addr + lay.msgq_msg_size, lay.msgq_msg_size_size)
                  if lay.msgq_msg_size is not None else None)
            return mx, ms
        # K_MSGQ_DEFINE's initialiser: msg_size, max_msgs, then four buffer pointers with
        # start == read == write and end - start == msg_size * max_msgs.
        for off in range(0, 12 * p, p):
            ms = img.word(addr + off)
            mx = img.uint(addr + off + p, 4)
            ptrs = [img.word(addr + off + (2 + i) * p) for i in range(4)]
            if ms is None or mx is None or None in ptrs:
                break
            start, end, rd, wr = ptrs
            if ms and start and start == rd == wr and end - start == ms * mx:
                return mx, ms
        sym = img.symbol_at(addr, "STT_OBJECT")
        if sym is not None:
            buf = img.symbol(f"_k_msgq_buf_{sym.name}")
            if buf is not None and buf.size:
                ms = 2 * p                     # sizeof(struct packet_event)
                return buf.size // ms, ms
        return None, None

    def queue(self, msgq: int) -> Queue:
        if msgq in self.queues:
            return self.queues[msgq]
        img, lay = self.img, self.lay
        msym = img.symbol_at(msgq, "STT_OBJECT")
        qsym, qaddr = self._queue_objs.get(msgq, (None, None))
        if qaddr is None and msym is not None and msym.name.endswith("_msgq"):
            cand = img.symbol(msym.name[:-len("_msgq")])
            if cand is not None and img.word(cand.value + lay.queue_msgq) == msgq:
                qsym, qaddr = cand.name, cand.value
        if qaddr is None and not img.symbols and lay.queue_name is not None:
            qaddr = self._scan_queue_object(msgq)
        name = None
        if qaddr is not None and lay.queue_name is not None:
            name = img.cstring(img.word(qaddr + lay.queue_name) or 0)
        if name is None:
            name = qsym
        if name is None and msym is not None:
            name = msym.name[:-len("_msgq")] if msym.name.endswith("_msgq") else msym.name
        if name is None or not _IDENT.match(name):
            name = f"queue_{msgq:x}"
        size, msg_size = self._msgq_params(msgq)
        if size is None:
            self.warnings.append(f"queue {name}: the k_msgq size could not be read")
        q = Queue(name, qsym, qaddr, msym.name if msym else None, msgq, size, msg_size)
        self.queues[msgq] = q
        return q

    def _words(self):
        """(address, value) of every aligned pointer-sized word in initialised plain data."""
        p = self.img.ptr
        fmt = "<Q" if p == 8 else "<I"
        for sec in self.img.sections:
            if sec.data is None or not sec.writable or sec.name.endswith("_area"):
                continue
            start = _align(sec.addr, p) - sec.addr
            for off in range(start, len(sec.data) - p + 1, p):
                yield sec.addr + off, struct.unpack_from(fmt, sec.data, off)[0]

    def _scan_queue_object(self, msgq: int) -> int | None:
        """A stripped image with names: the packet_event_queue pointing at ``msgq``."""
        for at, value in self._words():
            if value == msgq and at - self.lay.queue_msgq >= 0:
                base = at - self.lay.queue_msgq
                if self.img.cstring(self.img.word(base + self.lay.queue_name) or 0):
                    return base
        return None

    # -- discovery without connections ---------------------------------------------------

    def discover_dwarf(self) -> None:
        for name, addr in self.facts.variables.get("packet_event_queue", []):
            msgq = self.img.word(addr + self.lay.queue_msgq)
            if msgq:
                self._queue_objs.setdefault(msgq, (name, addr))
        for _name, addr in self.facts.variables.get("packet_source", []):
            self.source(addr)
        for _name, addr in self.facts.variables.get("packet_sink", []):
            self.sink(addr)
        for msgq in list(self._queue_objs):
            self.queue(msgq)

    def _plain_data(self, addr: int) -> bool:
        sec = self.img.section_at(addr)
        return (sec is not None and sec.data is not None and sec.writable
                and not sec.name.endswith("_area"))

    def discover_symbols(self) -> None:
        """Find unconnected objects by their static initialisers (no DWARF)."""
        img, lay = self.img, self.lay
        p = img.ptr
        objs = [s for s in img.symbols if s.kind == "STT_OBJECT" and self._plain_data(s.value)]
        msgqs = set(self.queues)
        for s in img.symbols:
            sec = img.section_at(s.value)
            if s.kind == "STT_OBJECT" and (s.name.endswith("_msgq") or (
                    sec is not None and sec.name == "k_msgq_area")):
                msgqs.add(s.value)
        # queues: an object named X whose first word points at X_msgq
        for s in objs:
            target = img.symbol(f"{s.name}_msgq")
            if target is not None and img.word(s.value + lay.queue_msgq) == target.value:
                self._queue_objs.setdefault(target.value, (s.name, s.value))
                self.queue(target.value)
        src_max = (3 if lay.names else 2) * p + 2 * p + p   # name, list, stats, lock
        for s in objs:
            if s.value in self.sources or s.value in self.sinks or s.size > src_max:
                continue
            head = s.value + lay.source_sinks
            if img.word(head) != head or img.word(head + p) != head:
                continue
            if lay.names:
                text = img.cstring(img.word(s.value) or 0)
                if text != s.name:
                    continue
            self.source(s.value)
        for s in objs:
            if s.value in self.sources or s.value in self.sinks:
                continue
            if s.size < lay.sink_msgq + p or s.size > lay.sink_msgq + 3 * p:
                continue
            if lay.names and img.cstring(img.word(s.value) or 0) != s.name:
                continue
            mode = img.uint(s.value + lay.sink_mode, 4)
            handler = img.word(s.value + lay.sink_handler) or 0
            msgq = img.word(s.value + lay.sink_msgq) or 0
            if not handler or img.symbol_at(handler & ~1 if img.thumb else handler,
                                            "STT_FUNC") is None:
                continue
            if (mode, bool(msgq)) == (0, False) or (mode == 1 and msgq in msgqs):
                self.sink(s.value)

    def _is_code(self, addr: int) -> bool:
        sec = self.img.section_at(addr & ~1 if self.img.thumb else addr)
        return sec is not None and sec.executable

    def discover_stripped(self) -> None:
        """Find unconnected objects of a stripped image built with PACKET_IO_NAMES."""
        img, lay = self.img, self.lay
        p = img.ptr
        msgqs = set(self.queues)
        for at, value in list(self._words()):
            if at in self.sources or at in self.sinks or not value:
                continue
            if img.cstring(value) is None:
                continue
            head = at + lay.source_sinks
            if img.word(head) == head and img.word(head + p) == head:
                self.source(at)
                continue
            mode = img.uint(at + lay.sink_mode, 4)
            handler = img.word(at + lay.sink_handler) or 0
            msgq = img.word(at + lay.sink_msgq)
            if mode not in (0, 1) or msgq is None or not handler or not self._is_code(handler):
                continue
            if (mode == 0 and msgq == 0) or (mode == 1 and msgq in msgqs):
                self.sink(at)
        if lay.queue_name is None:
            return
        for at, value in list(self._words()):
            base = at - lay.queue_name
            if base in self.sources or base in self.sinks or img.cstring(value) is None:
                continue
            mq = img.word(base + lay.queue_msgq) or 0
            sec = img.section_at(mq)
            if mq and mq not in self.queues and sec is not None and (
                    sec.name == "k_msgq_area" or self._msgq_params(mq)[0] is not None):
                self._queue_objs[mq] = (None, base)
                self.queue(mq)

    # -- main ----------------------------------------------------------------------------

    def read(self) -> Topology:
        img = self.img
        area = self.connection_area()
        entries: list[tuple[int, int, int]] = []
        sec_name = None
        if area is not None:
            sec_name, start, end = area
            if self.lay is None:
                first_sink = img.word(start + img.ptr) if end > start else None
                self.lay = _Layout.guess(img.ptr, self.names_on(first_sink))
            stride = self.lay.conn_stride
            if (end - start) % stride:
                self.warnings.append(f"{sec_name}: {end - start} bytes is not a whole number "
                                     f"of {stride}-byte connections")
            for at in range(start, end - stride + 1, stride):
                src = img.word(at + self.lay.conn_source) or 0
                snk = img.word(at + self.lay.conn_sink) or 0
                entries.append((at, src, snk))
        elif self.lay is None:
            self.lay = _Layout.guess(img.ptr, False)
        if self.facts is not None and self.facts.variables:
            self.discover_dwarf()

        conns: list[Connection] = []
        seen: set[tuple[int, int]] = set()
        for at, src, snk in entries:
            csym = img.symbol_at(at, "STT_OBJECT")
            cname = csym.name if csym else f"0x{at:x}"
            if not src or not snk:
                self.warnings.append(f"static connection {cname} has a NULL "
                                     f"{'source' if not src else 'sink'}: packet_io skips it")
                continue
            node = img.word(at + self.lay.conn_node)
            if node:
                self.warnings.append(f"static connection {cname} has a linked list node "
                                     "in the image: packet_io skips it at init")
            s, k = self.source(src), self.sink(snk)
            if (src, snk) in seen:
                self.warnings.append(f"{s.name} -> {k.name} is connected twice: the sink "
                                     "gets every packet twice")
            seen.add((src, snk))
            conns.append(Connection(s.name, k.name, csym.name if csym else None, at))
        if self.facts is None or not self.facts.variables:
            if img.symbols:
                self.discover_symbols()
            elif self.lay.names:
                self.discover_stripped()
            else:
                self.warnings.append("no symbols, no DWARF and no names: only connected "
                                     "sources and sinks are listed")

        if area is None:
            if not (self.sources or self.sinks):
                raise ElfTopologyError(f"{img.path}: no packet_io objects found (no "
                                       "packet_connection_area section, no packet_source or "
                                       "packet_sink variables)")
            self.warnings.append("no packet_connection_area section: the image has no static "
                                 "connections")
        xip = any(s.writable and s.data is not None and s.lma != s.addr for s in img.sections)
        if area is not None and sec_name is not None:
            sec = img.section(sec_name)
            if sec is not None and xip and sec.lma == sec.addr:
                self.warnings.append(
                    f"{sec_name} is in flash on this XIP image (0x{sec.addr:x}, not copied "
                    "to RAM): packet_io writes each static connection's list node at init, "
                    "so the section must be writable RAM")
        self._check_names()
        return Topology(
            path=str(img.path), elf_class=img.elf.elfclass, machine=img.machine,
            has_dwarf=self.facts is not None, names=self.lay.names, xip=xip,
            connection_section=sec_name,
            sources=sorted(self.sources.values(), key=lambda s: s.name),
            sinks=sorted(self.sinks.values(), key=lambda s: s.name),
            queues=sorted(self.queues.values(), key=lambda q: q.name),
            connections=conns, warnings=self.warnings)

    def _check_names(self) -> None:
        for kind, objs in (("source", self.sources.values()), ("sink", self.sinks.values()),
                           ("queue", self.queues.values())):
            seen: dict[str, int] = {}
            for o in objs:
                seen[o.name] = seen.get(o.name, 0) + 1
            for name, n in seen.items():
                if n > 1:
                    self.warnings.append(f"{n} {kind}s are named {name}")


def read_topology(path: str | Path) -> Topology:
    """Read the static packet_io topology of a linked firmware image."""
    return _Reader(Path(path)).read()


# --------------------------------------------------------------------------- YAML


def _scalar(s: str) -> str:
    """``s`` as a YAML scalar that reads back as the same string."""
    try:
        plain = yaml.safe_load(s) == s
    except yaml.YAMLError:
        plain = False
    return s if plain and _IDENT.match(s) else yaml.safe_dump(s, default_style='"').strip()


def topology_to_yaml(topo: Topology, name: str | None = None) -> str:
    """The topology as a ``topology.yaml`` (docs/scenario-format.md).

    Pools, processing threads and stimuli are not in an image's static data, so the file
    holds queues, sources, sinks (recording every packet) and the static connections in link
    order; handlers and user data are given as comments.
    """
    bits = f"ELF{topo.elf_class} {topo.machine.removeprefix('EM_')}"
    info = ", ".join([bits, "DWARF" if topo.has_dwarf else "no DWARF",
                      f"PACKET_IO_NAMES {'on' if topo.names else 'off'}"]
                     + (["XIP"] if topo.xip else []))
    out = [f"# Static packet_io topology of {Path(topo.path).name} ({info}).",
           "# Pools, queue threads and stimuli are not recorded in the image: add them to run it."]
    for w in topo.warnings:
        out.append(f"# warning: {w}")
    out.append("version: 1")
    out.append(f"name: {_scalar(name or _stem(topo.path))}")
    if topo.queues:
        out.append("queues:")
        for q in topo.queues:
            out.append(f"  - name: {_scalar(q.name)}")
            if q.size is not None:
                out.append(f"    size: {q.size}")
    else:
        out.append("queues: []")
    if topo.sources:
        out.append("sources:")
        out.extend(f"  - name: {_scalar(s.name)}" for s in topo.sources)
    else:
        out.append("sources: []")
    if topo.sinks:
        out.append("sinks:")
        for k in topo.sinks:
            out.append(f"  - name: {_scalar(k.name)}")
            if k.queue:
                out.append(f"    queue: {_scalar(k.queue)}")
            note = f"handler: {k.handler}"
            if k.user_data:
                note += f", user_data: {k.user_data}"
            if k.mode not in ("immediate", "queued"):
                note += f", mode: {k.mode}"
            out.append(f"    behaviour: [record]   # {note}")
    else:
        out.append("sinks: []")
    if topo.connections:
        out.append("connections:                # static, in link order")
        out.extend(f"  - [{_scalar(c.source)}, {_scalar(c.sink)}]" for c in topo.connections)
    else:
        out.append("connections: []")
    return "\n".join(out) + "\n"


def _stem(path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(path).stem) or "firmware"
    return stem if _IDENT.match(stem) else f"fw_{stem}"
