"""zsim's compiled core: the hot paths of the kernel, net_buf and packet_io, compiled with
Cython from the same ``.py`` files, typed by the ``.pxd`` file beside each.

The compiled core is optional. Without Cython or a C compiler, or with ``ZSIM_PURE_PYTHON=1``
set when installing, zsim installs as pure Python; setting ``ZSIM_PURE_PYTHON=1`` when
running makes an installed compiled core load its ``.py`` sources instead
(``zsim/_pure.py``). Both behave the same: the test suite runs the kernel tests in each.
"""

import os

from setuptools import Extension, setup

# The modules on the hot paths, compiled; everything else stays plain Python.
COMPILED = [
    "zsim/kernel/time_units.py",
    "zsim/kernel/thread.py",
    "zsim/kernel/wait_q.py",
    "zsim/kernel/core.py",
    "zsim/kernel/msgq.py",
    "zsim/net_buf.py",
    "zsim/packet_io/stats.py",
    "zsim/packet_io/sink.py",
    "zsim/packet_io/queue.py",
    "zsim/packet_io/source.py",
]

DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,     # types come from the .pxd files only
    "binding": False,               # methods as C methods: the fastest calls from Python
    "embedsignature": True,
    "embedsignature.format": "clinic",  # inspect.signature reads the compiled methods
}


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
                      extra_compile_args=["-O2"]) for path in COMPILED]
    try:
        built = cythonize(exts, compiler_directives=DIRECTIVES, quiet=True,
                          nthreads=os.cpu_count() or 1)
    except Exception as exc:  # noqa: BLE001 - any Cython failure: install the sources
        print(f"zsim: Cython could not translate the core ({exc}); installing it as Python")
        return []
    for ext in built:           # cythonize drops it: no C compiler must not fail the install
        ext.optional = True
    return built


setup(ext_modules=ext_modules(),
      options={"build_ext": {"parallel": os.cpu_count() or 1}})
