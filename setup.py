"""zsim's compiled core: the hot paths of the kernel, net_buf and packet_io, compiled with
Cython from the same ``.py`` files, typed by the ``.pxd`` file beside each.

The compiled core is optional. Without Cython or a C compiler, or with ``ZSIM_PURE_PYTHON=1``
set when installing, zsim installs as pure Python; setting ``ZSIM_PURE_PYTHON=1`` when
running makes an installed compiled core load its ``.py`` sources instead
(``zsim/_pure.py``). Both behave the same: the test suite runs the kernel tests in each.

Build time and size (docs/compiled-core.md): no debug information, stripped objects, C
files without source comments, -O1 where little time is spent, and translation and
compilation spread over the cores, the largest module first.
"""

import os
import sys

from setuptools import Extension, setup

# The modules on the hot paths, compiled, each with its optimisation level; everything else
# stays plain Python. The -O2 ones hold nearly all the time spent in compiled code (perf, on
# bench/queued.py, bench/immediate.py and bench/sample.py); the -O1 ones hold under 1 % each,
# so their cheaper build costs no measurable speed (docs/compiled-core.md).
COMPILED = {
    "zsim/kernel/core.py": "-O2",
    "zsim/net_buf.py": "-O2",
    "zsim/packet_io/source.py": "-O2",
    "zsim/packet_io/queue.py": "-O2",
    "zsim/kernel/time_units.py": "-O1",
    "zsim/kernel/thread.py": "-O1",
    "zsim/kernel/wait_q.py": "-O1",
    "zsim/kernel/msgq.py": "-O1",
    "zsim/packet_io/stats.py": "-O1",
    "zsim/packet_io/sink.py": "-O1",
}

DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,     # types come from the .pxd files only
    "binding": False,               # methods as C methods: the fastest calls from Python
    "embedsignature": True,
    "embedsignature.format": "clinic",  # inspect.signature reads the compiled methods
    "emit_code_comments": False,    # C files an eighth smaller, the same machine code
}

# These follow Python's own CFLAGS (``-g -O3`` on most builds): the last -O and -g win.
# -g0: no debug information, a quarter of the compile time and five sixths of the binaries;
# it leaves the machine code as it was.
CFLAGS = ["-g0"]
LDFLAGS = [] if sys.platform in ("darwin", "win32") else ["-s"]    # strip the symbol table


def jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def ext_modules() -> list:
    if os.environ.get("ZSIM_PURE_PYTHON", "0") not in ("", "0"):    # as zsim/_pure.py reads it
        return []
    try:  # the kernel switches threads through greenlet's C API (greenlet.h)
        import greenlet
        from Cython.Build import cythonize
    except ImportError as exc:
        print(f"zsim: {exc.name} not found, installing the pure-Python core")
        return []
    headers = [os.path.dirname(greenlet.__file__)]      # greenlet.h
    exts = [Extension(path[:-3].replace("/", "."), [path], optional=True, include_dirs=headers,
                      extra_compile_args=[opt, *CFLAGS], extra_link_args=LDFLAGS)
            for path, opt in COMPILED.items()]
    try:
        built = cythonize(exts, compiler_directives=DIRECTIVES, quiet=True, nthreads=jobs())
    except Exception as exc:  # noqa: BLE001 - any Cython failure: install the sources
        print(f"zsim: Cython could not translate the core ({exc}); installing it as Python")
        return []
    for ext in built:           # cythonize drops it: no C compiler must not fail the install
        ext.optional = True
    # Largest C file first, so that kernel/core.c (a third of the work) does not start last.
    return sorted(built, key=lambda ext: -os.path.getsize(ext.sources[0]))


setup(ext_modules=ext_modules(), options={"build_ext": {"parallel": jobs()}})
