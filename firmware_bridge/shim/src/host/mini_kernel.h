/*
 * A deterministic stand-in for the Zephyr kernel services the shim's host build
 * needs: threads with Zephyr priorities (lower runs first, negative cooperative) on
 * ucontext stacks, virtual time in ticks that advances only when every thread waits
 * or busy-waits, sleeps, and message queues with k_msgq's semantics.
 *
 * Everything runs on one operating system thread; mk_run() is the scheduler.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef MINI_KERNEL_H_
#define MINI_KERNEL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MK_FOREVER (-1)
#define MK_NEVER UINT64_MAX
/* mk_run(): a thread called mk_stall() */
#define MK_STALLED 1

struct mk_thread;

struct mk_waitq {
	struct mk_thread *head;
	struct mk_thread *tail;
};

struct mk_msgq {
	uint8_t *buffer;
	size_t msg_size;
	uint32_t max_msgs;
	uint32_t used;
	uint32_t read;
	uint32_t write;
	uint32_t high_water;
	struct mk_waitq waitq;
};

typedef void (*mk_entry_t)(void *arg);

void mk_init(uint32_t ticks_per_sec);

/* Forget every thread (from outside the threads). */
void mk_reset(void);

uint64_t mk_ticks(void);
uint32_t mk_ticks_per_sec(void);

struct mk_thread *mk_thread_create(mk_entry_t entry, void *arg, int prio, const char *name);
bool mk_thread_done(const struct mk_thread *t);

/* Stop a thread that is not running (it never runs again). */
void mk_thread_abort(struct mk_thread *t);

/*
 * Run the threads until `until` has returned (when given) or nothing can happen
 * before tick `end` (MK_NEVER: until nothing can happen at all); then the clock is at
 * `end` when that is finite. Nothing runs at tick `end` itself, and a busy wait that
 * reaches it stops there. Returns 0, -1 when `until` can never return, or MK_STALLED.
 */
int mk_run(uint64_t end, struct mk_thread *until);

/*
 * In a thread: stop the clock and return from mk_run() with MK_STALLED; the thread
 * resumes first at the next mk_run() (the host build waits for the host this way).
 */
void mk_stall(void);
bool mk_in_thread(void);

/* Frozen threads neither run nor time out (the scenario between runs). */
void mk_freeze_all(bool frozen);

/* In a thread: sleep (0 yields, MK_FOREVER never returns), sleep to a tick, busy-wait. */
void mk_sleep(int32_t ticks);
void mk_sleep_until(uint64_t tick);
void mk_busy_ns(uint64_t ns);

/*
 * No preemption by threads this one wakes until its next kernel call after the
 * matching unlock (a spinlock section).
 */
void mk_sched_lock(void);
void mk_sched_unlock(void);

void mk_msgq_init(struct mk_msgq *q, uint8_t *buffer, size_t msg_size, uint32_t max_msgs);

/* 0, -ENOMSG (full / empty with no wait) or -EAGAIN (timed out), Zephyr numbers. */
int mk_msgq_put(struct mk_msgq *q, const void *msg, int32_t timeout);
int mk_msgq_get(struct mk_msgq *q, void *msg, int32_t timeout);

#endif /* MINI_KERNEL_H_ */
