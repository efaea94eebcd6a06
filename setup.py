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

import importlib.util
import json
import os
import re
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

# The modules on the hot paths, compiled, each with its optimisation level; everything else
# stays plain Python. The -O2 ones hold nearly all the time spent in compiled code (perf, on
# bench/queued.py, bench/immediate.py and bench/sample.py); the -O1 ones hold under 1 % each,
# so their cheaper build costs no measurable speed (docs/compiled-core.md).
COMPILED = {
    "zsim/kernel/core.py": "-O2",
    "zsim/net_buf.py": "-O2",
    "zsim/packet_io/source.py": "-O2",
    "zsim/packet_io/queue.py": "-O2",
    "zsim/trace_events.py": "-O2",
    "zsim/kernel/time_units.py": "-O1",
    "zsim/kernel/thread.py": "-O1",
    "zsim/kernel/wait_q.py": "-O1",
    "zsim/kernel/msgq.py": "-O1",
    "zsim/packet_io/stats.py": "-O1",
    "zsim/packet_io/sink.py": "-O1",
    "zsim/export/series.py": "-O1",
}

# Modules that call zlib from C when the compiler finds it (zlib_found).
USES_ZLIB = {"zsim.trace_events"}
ZLIB = {"libraries": ["z"], "define_macros": [("ZSIM_ZLIB", "1")]}

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
                      extra_compile_args=[opt, *CFLAGS], extra_link_args=LDFLAGS,
                      **(ZLIB if path[:-3].replace("/", ".") in USES_ZLIB and zlib_found()
                         else {}))
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


def zlib_found() -> bool:
    """Whether the C compiler finds zlib (zlib.h and libz). With it, trace_events computes
    its CRC-32 digests by calling zlib's ``crc32`` from C; without, through Python's zlib
    module (the same digests, a little slower)."""
    import tempfile

    try:
        from distutils.ccompiler import new_compiler
        from distutils.sysconfig import customize_compiler
    except ImportError:
        return False
    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory(prefix="zsim-zlib-") as tmp:
        probe = os.path.join(tmp, "probe.c")
        with open(probe, "w") as f:
            f.write("#include <zlib.h>\nint main(void) { return (int)crc32(0L, Z_NULL, 0); }\n")
        try:
            objects = compiler.compile([probe], output_dir=tmp)
            compiler.link_executable(objects, os.path.join(tmp, "probe"), libraries=["z"])
        except Exception:  # noqa: BLE001 - any failure: no zlib for C
            print("zsim: zlib.h or libz not found; trace digests go through Python's zlib")
            return False
    return True


def build_info():
    """zsim/build_info.py, loaded by path (importing zsim needs its dependencies)."""
    spec = importlib.util.spec_from_file_location(
        "zsim_build_info", os.path.join(HERE, "zsim", "build_info.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_failure(exc: Exception) -> str:
    """A compile error in one line: the failing command and its status, or the message."""
    text = str(exc).strip()
    command = re.search(r"Command '\['([^']+)'.*exit status (\d+)", text, re.DOTALL)
    if command:
        return f"{command[1]} exited with status {command[2]}"
    return (text.splitlines() or [type(exc).__name__])[-1][:200]


class RecordedBuildExt(build_ext):
    """build_ext that records each compiled module's source and binary hashes, or why its
    build failed, in zsim/_build.json beside the binaries (zsim/build_info.py reads it)."""

    def run(self) -> None:
        self.failed: dict[str, str] = {}
        super().run()
        info = build_info()
        dirs = [os.path.join(self.build_lib, "zsim")]
        if self.inplace:
            dirs.append(self.get_finalized_command("build_py").get_package_dir("zsim"))
        for package_dir in dirs:
            self.record(info, package_dir)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:        # optional: build_ext warns and goes on
            self.failed[ext.name] = build_failure(exc)
            print(f"zsim: WARNING: compiling {ext.name} failed ({self.failed[ext.name]}); "
                  "it will run as Python", file=sys.stderr)
            raise

    def record(self, info, package_dir: str) -> None:
        """Merge this build's entries into ``package_dir``'s record."""
        record = info.read_record(package_dir)
        for ext in self.extensions:
            filename = self.get_ext_filename(ext.name)
            key = info.record_key(ext.name, filename)
            binary = os.path.join(package_dir, *key.split("/"))
            source = os.path.join(HERE, *ext.name.split(".")) + ".py"     # as installed
            if ext.name in self.failed:
                record[key] = {"failed": self.failed[ext.name]}
            elif os.path.isfile(binary) and os.path.isfile(source):
                record[key] = {"source": info.source_digest(source, os.path.join(HERE, "zsim")),
                               "binary": info.file_digest(binary)}
        os.makedirs(package_dir, exist_ok=True)
        with open(os.path.join(package_dir, info.RECORD), "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1, sort_keys=True)
            f.write("\n")


setup(ext_modules=ext_modules(), cmdclass={"build_ext": RecordedBuildExt},
      options={"build_ext": {"parallel": jobs()}})
