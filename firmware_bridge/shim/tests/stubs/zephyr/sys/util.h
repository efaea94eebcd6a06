/* Stand-in for <zephyr/sys/util.h> (declarations and macros only). */
#ifndef STUB_ZEPHYR_SYS_UTIL_H_
#define STUB_ZEPHYR_SYS_UTIL_H_

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARG_UNUSED(x) (void)(x)
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define CONTAINER_OF(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define CLAMP(val, low, high) (((val) <= (low)) ? (low) : MIN(val, high))
#define BUILD_ASSERT(expr, ...) _Static_assert(expr, "" __VA_ARGS__)
#define __aligned(x) __attribute__((__aligned__(x)))

/* IS_ENABLED(CONFIG_X): 1 when CONFIG_X is defined to 1, else 0 */
#define STUB_ARG_1_1 0,
#define STUB_PICK_SECOND(ignored, val, ...) val
#define STUB_IS_ENABLED3(arg) STUB_PICK_SECOND(arg 1, 0, 0)
#define STUB_IS_ENABLED2(value) STUB_IS_ENABLED3(STUB_ARG_1_##value)
#define IS_ENABLED(config) STUB_IS_ENABLED2(config)

/* LISTIFY(n, F, sep): F(0, ) sep F(1, ) ... for n up to 16 */
#define STUB_UNBRACKET(...) __VA_ARGS__
#define STUB_LFY_0(F, sep)
#define STUB_LFY_1(F, sep) F(0, )
#define STUB_LFY_2(F, sep) STUB_LFY_1(F, sep) STUB_UNBRACKET sep F(1, )
#define STUB_LFY_3(F, sep) STUB_LFY_2(F, sep) STUB_UNBRACKET sep F(2, )
#define STUB_LFY_4(F, sep) STUB_LFY_3(F, sep) STUB_UNBRACKET sep F(3, )
#define STUB_LFY_5(F, sep) STUB_LFY_4(F, sep) STUB_UNBRACKET sep F(4, )
#define STUB_LFY_6(F, sep) STUB_LFY_5(F, sep) STUB_UNBRACKET sep F(5, )
#define STUB_LFY_7(F, sep) STUB_LFY_6(F, sep) STUB_UNBRACKET sep F(6, )
#define STUB_LFY_8(F, sep) STUB_LFY_7(F, sep) STUB_UNBRACKET sep F(7, )
#define STUB_LFY_9(F, sep) STUB_LFY_8(F, sep) STUB_UNBRACKET sep F(8, )
#define STUB_LFY_10(F, sep) STUB_LFY_9(F, sep) STUB_UNBRACKET sep F(9, )
#define STUB_LFY_11(F, sep) STUB_LFY_10(F, sep) STUB_UNBRACKET sep F(10, )
#define STUB_LFY_12(F, sep) STUB_LFY_11(F, sep) STUB_UNBRACKET sep F(11, )
#define STUB_LFY_13(F, sep) STUB_LFY_12(F, sep) STUB_UNBRACKET sep F(12, )
#define STUB_LFY_14(F, sep) STUB_LFY_13(F, sep) STUB_UNBRACKET sep F(13, )
#define STUB_LFY_15(F, sep) STUB_LFY_14(F, sep) STUB_UNBRACKET sep F(14, )
#define STUB_LFY_16(F, sep) STUB_LFY_15(F, sep) STUB_UNBRACKET sep F(15, )
#define STUB_LFY(n, F, sep) STUB_LFY_##n(F, sep)
#define LISTIFY(n, F, sep, ...) STUB_LFY(n, F, sep)

#endif
