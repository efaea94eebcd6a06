"""Static connection order: sorted by the linker on ``__connection_<source>_<sink>``.

Facts: zephyr-reference.md "Static connections and link order" (iterable sections are kept
``SORT_BY_NAME``, include/zephyr/linker/iterable_sections.h); runtime connections are
appended after the existing ones (the seed's packet_connection_add).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zsim import Kernel
from zsim.packet_io import PacketConnection, PacketSink, PacketSource, connect


def _sinks(k: Kernel, n: int) -> list[PacketSink]:
    return [PacketSink(k, f"sink_{i:02d}", lambda s, b: None) for i in range(n)]


def test_static_connections_follow_symbol_order_not_declaration_order() -> None:
    k = Kernel()
    src = PacketSource(k, "src")
    a, b, c = (PacketSink(k, n, lambda s, b: None) for n in ("charlie", "alpha", "bravo"))
    for sink in (a, b, c):
        connect(src, sink)
    assert [s.name for s in src.sinks] == ["alpha", "bravo", "charlie"]


def test_many_static_connections_stay_sorted() -> None:
    k = Kernel()
    src = PacketSource(k, "src")
    sinks = _sinks(k, 60)
    for i in (37 * j % 60 for j in range(60)):          # a permutation of 0..59
        connect(src, sinks[i])
    assert [s.name for s in src.sinks] == sorted(s.name for s in sinks)
    assert [c.symbol for c in src.conns] == sorted(c.symbol for c in src.conns)


def _reference_insert(order: list[tuple[str, bool]], symbol: str) -> int:
    """The linear walk the seed's link order implies: past leading smaller statics."""
    i = 0
    while i < len(order) and order[i][1] and order[i][0] < symbol:
        i += 1
    return i


ops = st.lists(st.tuples(st.sampled_from(["connect", "remove", "add"]),
                         st.integers(min_value=0, max_value=5)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_connect_matches_the_linear_walk_under_any_mix_of_runtime_changes(program) -> None:
    k = Kernel(config={"PACKET_IO_RUNTIME_OBSERVERS": True})
    src = PacketSource(k, "src")
    sinks = _sinks(k, 6)
    conns: dict[int, PacketConnection] = {}
    model: list[tuple[str, bool, str]] = []             # (symbol, static, sink name)
    for op, i in program:
        if op == "connect" and i not in conns:
            conn = connect(src, sinks[i])
            conns[i] = conn
            pos = _reference_insert([(m[0], m[1]) for m in model], conn.symbol)
            model.insert(pos, (conn.symbol, True, sinks[i].name))
        elif op == "remove" and i in conns and conns[i].linked:
            assert conns[i].remove() == 0
            model = [m for m in model if m[2] != sinks[i].name]
        elif op == "add" and i in conns and not conns[i].linked:
            assert conns[i].add() == 0                  # re-added at the end
            model.append((conns[i].symbol, True, sinks[i].name))
        assert [s.name for s in src.sinks] == [m[2] for m in model]
        assert [c.sink for c in src.conns] == src.sinks


def test_static_connections_come_before_runtime_ones() -> None:
    k = Kernel(config={"PACKET_IO_RUNTIME_OBSERVERS": True})
    src = PacketSource(k, "src")
    late = PacketSink(k, "aaa_runtime", lambda s, b: None)
    assert PacketConnection(src, late).add() == 0
    connect(src, PacketSink(k, "zzz_static", lambda s, b: None))
    assert [s.name for s in src.sinks] == ["zzz_static", "aaa_runtime"]


def test_a_static_connection_re_added_at_runtime_is_walked_past_like_the_seed() -> None:
    # After remove + add, a static connection sits after others that sort later; a new
    # static connection then stops at the first one not smaller, as the linear walk does.
    k = Kernel(config={"PACKET_IO_RUNTIME_OBSERVERS": True})
    src = PacketSource(k, "src")
    a, b, c = (PacketSink(k, n, lambda s, b: None) for n in ("a", "b", "c"))
    conn_a = connect(src, a)
    connect(src, c)
    assert conn_a.remove() == 0 and conn_a.add() == 0
    assert [s.name for s in src.sinks] == ["c", "a"]
    connect(src, b)
    assert [s.name for s in src.sinks] == ["b", "c", "a"]
