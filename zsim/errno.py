"""Zephyr's errno numbers (lib/libc/minimal/include/errno.h).

picolibc and newlib use the same numbers. The simulator returns these on every board
(``from zsim import errno``; compare with ``-errno.EAGAIN``). A real native_sim build that
links the host's C library (``CONFIG_EXTERNAL_LIBC``, the profile's ``errno_flavour:
linux``) returns the host's numbers instead (Linux: ENOMSG 42, EALREADY 114, ...):
:func:`numbers` gives either table and :func:`to_flavour` translates a result, which is how
results from such a build are compared with the simulator's (docs/fidelity.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EPERM = 1
ENOENT = 2
ESRCH = 3
EINTR = 4
EIO = 5
ENXIO = 6
E2BIG = 7
ENOEXEC = 8
EBADF = 9
ECHILD = 10
EAGAIN = 11
ENOMEM = 12
EACCES = 13
EFAULT = 14
ENOTBLK = 15
EBUSY = 16
EEXIST = 17
EXDEV = 18
ENODEV = 19
ENOTDIR = 20
EISDIR = 21
EINVAL = 22
ENFILE = 23
EMFILE = 24
ENOTTY = 25
ETXTBSY = 26
EFBIG = 27
ENOSPC = 28
ESPIPE = 29
EROFS = 30
EMLINK = 31
EPIPE = 32
EDOM = 33
ERANGE = 34
ENOMSG = 35
EDEADLK = 45
ENOLCK = 46
ENOSTR = 60
ENODATA = 61
ETIME = 62
ENOSR = 63
EPROTO = 71
EBADMSG = 77
ENOSYS = 88
ENOTEMPTY = 90
ENAMETOOLONG = 91
ELOOP = 92
EOPNOTSUPP = 95
EPFNOSUPPORT = 96
ECONNRESET = 104
ENOBUFS = 105
EAFNOSUPPORT = 106
EPROTOTYPE = 107
ENOTSOCK = 108
ENOPROTOOPT = 109
ESHUTDOWN = 110
ECONNREFUSED = 111
EADDRINUSE = 112
ECONNABORTED = 113
ENETUNREACH = 114
ENETDOWN = 115
ETIMEDOUT = 116
EHOSTDOWN = 117
EHOSTUNREACH = 118
EINPROGRESS = 119
EALREADY = 120
EDESTADDRREQ = 121
EMSGSIZE = 122
EPROTONOSUPPORT = 123
ESOCKTNOSUPPORT = 124
EADDRNOTAVAIL = 125
ENETRESET = 126
EISCONN = 127
ENOTCONN = 128
ETOOMANYREFS = 129
ENOTSUP = 134
EILSEQ = 138
EOVERFLOW = 139
ECANCELED = 140
EWOULDBLOCK = EAGAIN

ZEPHYR: Mapping[str, int] = MappingProxyType({
    name: value for name, value in dict(globals()).items()
    if name.startswith("E") and isinstance(value, int) and name != "EWOULDBLOCK"
})
"""Name → number in Zephyr's C libraries (minimal, picolibc, newlib)."""

LINUX: Mapping[str, int] = MappingProxyType({
    "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
    "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EFAULT": 14, "ENOTBLK": 15, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19,
    "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25,
    "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
    "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "EDEADLK": 35, "ENAMETOOLONG": 36, "ENOLCK": 37,
    "ENOSYS": 38, "ENOTEMPTY": 39, "ELOOP": 40, "ENOMSG": 42, "ENOSTR": 60, "ENODATA": 61,
    "ETIME": 62, "ENOSR": 63, "EPROTO": 71, "EBADMSG": 74, "EOVERFLOW": 75, "EILSEQ": 84,
    "ENOTSOCK": 88, "EDESTADDRREQ": 89, "EMSGSIZE": 90, "EPROTOTYPE": 91,
    "ENOPROTOOPT": 92, "EPROTONOSUPPORT": 93, "ESOCKTNOSUPPORT": 94, "ENOTSUP": 95,
    "EOPNOTSUPP": 95, "EPFNOSUPPORT": 96, "EAFNOSUPPORT": 97, "EADDRINUSE": 98,
    "EADDRNOTAVAIL": 99, "ENETDOWN": 100, "ENETUNREACH": 101, "ENETRESET": 102,
    "ECONNABORTED": 103, "ECONNRESET": 104, "ENOBUFS": 105, "EISCONN": 106, "ENOTCONN": 107,
    "ESHUTDOWN": 108, "ETOOMANYREFS": 109, "ETIMEDOUT": 110, "ECONNREFUSED": 111,
    "EHOSTDOWN": 112, "EHOSTUNREACH": 113, "EALREADY": 114, "EINPROGRESS": 115,
    "ECANCELED": 125,
})
"""Name → number in Linux's C library (asm-generic/errno-base.h, asm-generic/errno.h),
used by a native_sim build that links the host C library. ENOTSUP and EOPNOTSUPP share 95
there; :func:`from_flavour` reads 95 as ENOTSUP."""

FLAVOURS: Mapping[str, Mapping[str, int]] = MappingProxyType({"zephyr": ZEPHYR, "linux": LINUX})
"""A board profile's ``errno_flavour`` → its table."""

errorcode = {v: k for k, v in ZEPHYR.items()}
"""Number → symbolic name, like Python's ``errno.errorcode``."""


def numbers(flavour: str = "zephyr") -> Mapping[str, int]:
    """The name → number table of an errno flavour (``"zephyr"`` or ``"linux"``)."""
    try:
        return FLAVOURS[flavour]
    except KeyError:
        raise ValueError(f"unknown errno flavour {flavour!r}; expected one of "
                         f"{', '.join(FLAVOURS)}") from None


def to_flavour(ret: int, flavour: str) -> int:
    """Translate a zsim (Zephyr-numbered) result, e.g. ``-ENOMSG``, to ``flavour``'s numbers;
    values that are not errno results (0, counts, unknown numbers) pass unchanged."""
    name = errorcode.get(-ret) if ret < 0 else None
    if name is None:
        return ret
    return -numbers(flavour).get(name, -ret)


def from_flavour(ret: int, flavour: str) -> int:
    """The inverse of :func:`to_flavour`: a result in ``flavour``'s numbers to zsim's."""
    if ret >= 0:
        return ret
    table = numbers(flavour)
    name = next((n for n, v in table.items() if v == -ret and n in ZEPHYR), None)
    return ret if name is None else -ZEPHYR[name]


def strerror(ret: int) -> str:
    """``-EAGAIN`` or ``11`` → ``"EAGAIN"``; unknown numbers are shown as digits."""
    return errorcode.get(abs(ret), str(ret))
