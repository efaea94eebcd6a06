/*
 * Error numbers of the protocol: Zephyr's minimal libc values, used by the core and
 * the platforms whatever C library the build uses.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef SHIM_ERRNO_H_
#define SHIM_ERRNO_H_

#define SHIM_ENOENT 2
#define SHIM_EAGAIN 11
#define SHIM_ENOMEM 12
#define SHIM_EFAULT 14
#define SHIM_EBUSY 16
#define SHIM_EEXIST 17
#define SHIM_EINVAL 22
#define SHIM_ENOSPC 28
#define SHIM_ENOMSG 35
#define SHIM_EBADMSG 77
#define SHIM_ENOSYS 88
#define SHIM_ENOBUFS 105
#define SHIM_EALREADY 120
#define SHIM_EMSGSIZE 122
#define SHIM_EPROTONOSUPPORT 123
#define SHIM_ENOTSUP 134
#define SHIM_EILSEQ 138

#endif /* SHIM_ERRNO_H_ */
