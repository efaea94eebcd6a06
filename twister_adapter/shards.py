"""``-B/--subset k/N``: the selected instances split into N stable, disjoint shards.

As twister's ``TestPlan.generate_subset``: the instances are sorted by name (platform
first; with ``--device-testing`` scenario first), optionally shuffled with a seed, and the
ones still to run are cut into N consecutive slices whose sizes differ by at most one (the
first shards take the extra ones). Every machine computes the same split, so the shards
together run every instance exactly once. Instances already settled before the run
(filtered, skipped) all go to shard 1, so the merged reports list each of them once too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from .discovery import TwisterConfigError
from .filters import Instance
from .statuses import NONE

_SUBSET = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_subset(text: str) -> tuple[int, int]:
    """``"k/N"`` as (k, N) with 1 <= k <= N; a ``TwisterConfigError`` otherwise."""
    m = _SUBSET.fullmatch(text)
    if not m:
        raise TwisterConfigError(f"-B/--subset {text!r}: expected k/N, e.g. 2/4")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise TwisterConfigError(f"-B/--subset {text!r}: expected 1 <= k <= N "
                                 "(the k-th of N shards)")
    return k, n


def shard_bounds(total: int, k: int, n: int) -> tuple[int, int]:
    """[start, end) of shard ``k`` of ``n`` over ``total`` instances to run."""
    per_set, extra = divmod(total, n)
    if k <= extra:
        start = (k - 1) * (per_set + 1)
        return start, start + per_set + 1
    start = extra * (per_set + 1) + (k - extra - 1) * per_set
    return start, start + per_set


def select_subset(instances: Sequence[Instance], k: int, n: int, *,
                  device_testing: bool = False,
                  shuffle_seed: int | None = None) -> list[Instance]:
    """The instances of shard ``k`` of ``n`` (see the module's description)."""
    if device_testing:
        ordered = sorted(instances, key=lambda i: (i.scenario.name, i.name))
    else:
        ordered = sorted(instances, key=lambda i: i.name)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(ordered)
    to_run = [i for i in ordered if i.status == NONE]
    start, end = shard_bounds(len(to_run), k, n)
    chosen = to_run[start:end]
    if k == 1:
        chosen += [i for i in ordered if i.status != NONE]
    keep = {id(i) for i in chosen}
    return [i for i in instances if id(i) in keep]


__all__ = ["parse_subset", "select_subset", "shard_bounds"]
