/* Stand-in for <zephyr/kernel.h>: the kernel API the shim uses (Zephyr 3.7). */
#ifndef STUB_ZEPHYR_KERNEL_H_
#define STUB_ZEPHYR_KERNEL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#include <zephyr/sys/util.h>
#include <zephyr/sys/atomic.h>
#include <zephyr/sys/dlist.h>

typedef int64_t k_ticks_t;
typedef struct {
	k_ticks_t ticks;
} k_timeout_t;

#define K_NO_WAIT ((k_timeout_t){ .ticks = 0 })
#define K_FOREVER ((k_timeout_t){ .ticks = -1 })
#define K_TICKS(t) ((k_timeout_t){ .ticks = (t) })
#define K_MSEC(ms) ((k_timeout_t){ .ticks = (ms) })
#define K_TIMEOUT_ABS_TICKS(t) ((k_timeout_t){ .ticks = -2 - (t) })

struct k_thread {
	void *custom_data;
	const char *name;
};
typedef struct k_thread *k_tid_t;
typedef uint8_t k_thread_stack_t;
typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);

#define K_THREAD_STACK_ARRAY_DEFINE(sym, nmemb, size) k_thread_stack_t sym[nmemb][size]
#define K_THREAD_STACK_SIZEOF(sym) sizeof(sym)

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack,
			size_t stack_size, k_thread_entry_t entry, void *p1, void *p2, void *p3,
			int prio, uint32_t options, k_timeout_t delay);
int k_thread_name_set(k_tid_t thread, const char *str);
void k_thread_abort(k_tid_t thread);
void k_thread_suspend(k_tid_t thread);
void k_thread_resume(k_tid_t thread);
void k_thread_custom_data_set(void *value);
void *k_thread_custom_data_get(void);
void k_yield(void);
int32_t k_sleep(k_timeout_t timeout);
int32_t k_msleep(int32_t ms);
void k_busy_wait(uint32_t usec_to_wait);
bool k_is_in_isr(void);
int64_t k_uptime_ticks(void);
uint32_t k_cycle_get_32(void);

unsigned int irq_lock(void);
void irq_unlock(unsigned int key);

struct k_sem {
	unsigned int count;
	unsigned int limit;
};
#define K_SEM_DEFINE(name, initial_count, count_limit)                                      \
	struct k_sem name = { .count = (initial_count), .limit = (count_limit) }
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);
void k_sem_give(struct k_sem *sem);

struct k_mutex {
	struct k_thread *owner;
};
#define K_MUTEX_DEFINE(name) struct k_mutex name = { 0 }
int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout);
int k_mutex_unlock(struct k_mutex *mutex);

struct k_msgq {
	size_t msg_size;
	uint32_t max_msgs;
	char *buffer_start;
	uint32_t used_msgs;
};
void k_msgq_init(struct k_msgq *msgq, char *buffer, size_t msg_size, uint32_t max_msgs);
int k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout);
int k_msgq_get(struct k_msgq *msgq, void *data, k_timeout_t timeout);
void k_msgq_purge(struct k_msgq *msgq);
uint32_t k_msgq_num_used_get(struct k_msgq *msgq);
int z_impl_k_msgq_put(struct k_msgq *msgq, const void *data, k_timeout_t timeout);

struct k_timer;
typedef void (*k_timer_expiry_t)(struct k_timer *timer);
typedef void (*k_timer_stop_t)(struct k_timer *timer);
struct k_timer {
	k_timer_expiry_t expiry_fn;
	k_timer_stop_t stop_fn;
	void *user_data;
};
void k_timer_init(struct k_timer *timer, k_timer_expiry_t expiry_fn, k_timer_stop_t stop_fn);
void k_timer_start(struct k_timer *timer, k_timeout_t duration, k_timeout_t period);
void k_timer_stop(struct k_timer *timer);

struct k_work;
typedef void (*k_work_handler_t)(struct k_work *work);
struct k_work {
	k_work_handler_t handler;
	uint32_t flags;
};
void k_work_init(struct k_work *work, k_work_handler_t handler);
int k_work_submit(struct k_work *work);

#endif
