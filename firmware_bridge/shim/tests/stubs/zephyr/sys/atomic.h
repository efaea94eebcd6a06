/* Stand-in for <zephyr/sys/atomic.h>. */
#ifndef STUB_ZEPHYR_SYS_ATOMIC_H_
#define STUB_ZEPHYR_SYS_ATOMIC_H_

typedef long atomic_t;
typedef atomic_t atomic_val_t;

atomic_val_t atomic_get(const atomic_t *target);
atomic_val_t atomic_inc(atomic_t *target);

#endif
