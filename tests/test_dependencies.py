"""Every command loads with the package's own dependencies: nothing that only an optional
extra (test, bench, dask, west) installs is imported by ``zsim --help``, ``zsim --version``
or a command's parser."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
from zsim.cli import build_parser
build_parser([])                        # every command registers its options
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def requirement_names(block: str) -> set[str]:
    return {re.split(r"[<>=\[;! ]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in re.findall(r'"([^"]+)"', block)}


def dependencies() -> tuple[set[str], set[str]]:
    """The base dependencies and those only optional extras add, from pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text()
    base = requirement_names(re.search(r"^dependencies = \[(.*?)^\]", text,
                                       re.MULTILINE | re.DOTALL)[1])
    extras_block = re.search(r"^\[project\.optional-dependencies\]\n(.*?)(?:^\[|\Z)", text,
                             re.MULTILINE | re.DOTALL)[1]
    return base, requirement_names(extras_block) - base


def test_every_command_loads_with_the_base_dependencies_only():
    base, extras_only = dependencies()
    assert {"matplotlib", "junitparser", "hdrhistogram"} <= base
    assert {"pytest", "hypothesis", "west"} <= extras_only
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout)
    dists = packages_distributions()
    imported = {d.lower().replace("_", "-") for m in modules for d in dists.get(m, ())}
    assert imported & extras_only == set(), \
        f"commands import what only an optional extra installs: {imported & extras_only}"
