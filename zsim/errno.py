"""Zephyr's errno numbers (lib/libc/minimal/include/errno.h).

picolibc and newlib use the same numbers. zsim returns these on every board, native_sim
included, although a real native_sim build that links the host's C library returns the host's
numbers (Linux: ENOMSG 42, EALREADY 114, ...); see ``docs/fidelity.md``. Import as
``from zsim import errno`` and compare with ``-errno.EAGAIN``.
"""

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
EBUSY = 16
EEXIST = 17
ENODEV = 19
EINVAL = 22
ENOSPC = 28
EDOM = 33
ERANGE = 34
ENOMSG = 35
EDEADLK = 45
ENOLCK = 46
ENOSYS = 88
ENOTEMPTY = 90
ENAMETOOLONG = 91
EMSGSIZE = 122
ENOBUFS = 105
ENOTSUP = 134
ETIMEDOUT = 116
EALREADY = 120
ECANCELED = 140

errorcode = {v: k for k, v in dict(globals()).items() if k.startswith("E") and isinstance(v, int)}
"""Number → symbolic name, like Python's ``errno.errorcode``."""


def strerror(ret: int) -> str:
    """``-EAGAIN`` or ``11`` → ``"EAGAIN"``; unknown numbers are shown as digits."""
    return errorcode.get(abs(ret), str(ret))
