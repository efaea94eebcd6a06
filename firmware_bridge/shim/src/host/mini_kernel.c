/*
 * Deterministic mini kernel of the shim's host build (see mini_kernel.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "mini_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "../core/shim_errno.h"

#define MK_MAX_THREADS 64
#define MK_STACK_SIZE (256 * 1024)
#define NS_PER_SEC 1000000000ULL

enum mk_state {
	MK_UNUSED,
	MK_READY,
	MK_PENDING,
	MK_RUNNING,
	MK_DEAD,
};

struct mk_thread {
	ucontext_t uc;
	void *stack;
	enum mk_state state;
	int prio;
	int64_t order;
	uint64_t wake_ns;
	struct mk_waitq *waitq;
	struct mk_thread *wnext;
	void *swap_data;
	int swap_ret;
	int sched_locked;
	bool frozen;
	mk_entry_t entry;
	void *arg;
	char name[32];
};

static struct mk_thread threads[MK_MAX_THREADS];
static ucontext_t sched_uc;
static struct mk_thread *current;
static uint64_t now_ns;
static uint32_t tps = 100;
static int64_t order_back;
static int64_t order_front;
/* the end of the bounded mk_run() in progress; a busy wait stops there */
static uint64_t run_end_ns = MK_NEVER;
/* the running thread asked the scheduler to return (mk_stall, end of run) */
static bool stop_run;

static uint64_t tick_ns(uint64_t tick)
{
	/* the first nanosecond of a tick, rounded up */
	return (tick * NS_PER_SEC + tps - 1U) / tps;
}

uint64_t mk_ticks(void)
{
	return now_ns * tps / NS_PER_SEC;
}

uint32_t mk_ticks_per_sec(void)
{
	return tps;
}

void mk_init(uint32_t ticks_per_sec)
{
	tps = ticks_per_sec != 0U ? ticks_per_sec : 100U;
	now_ns = 0;
	memset(threads, 0, sizeof(threads));
}

static void release(struct mk_thread *t)
{
	free(t->stack);
	memset(t, 0, sizeof(*t));
}

static void waitq_remove(struct mk_thread *t)
{
	struct mk_waitq *q = t->waitq;
	struct mk_thread **pp;

	if (q == NULL) {
		return;
	}
	for (pp = &q->head; *pp != NULL; pp = &(*pp)->wnext) {
		if (*pp == t) {
			*pp = t->wnext;
			break;
		}
	}
	q->tail = NULL;
	for (struct mk_thread *it = q->head; it != NULL; it = it->wnext) {
		q->tail = it;
	}
	t->waitq = NULL;
	t->wnext = NULL;
}

void mk_reset(void)
{
	for (int i = 0; i < MK_MAX_THREADS; i++) {
		if (threads[i].state != MK_UNUSED) {
			waitq_remove(&threads[i]);
			release(&threads[i]);
		}
	}
}

static void make_ready(struct mk_thread *t, bool front)
{
	t->state = MK_READY;
	t->wake_ns = MK_NEVER;
	t->order = front ? --order_front : ++order_back;
}

static struct mk_thread *pick(void)
{
	struct mk_thread *best = NULL;

	for (int i = 0; i < MK_MAX_THREADS; i++) {
		struct mk_thread *t = &threads[i];

		if (t->state != MK_READY || t->frozen) {
			continue;
		}
		if (best == NULL || t->prio < best->prio ||
		    (t->prio == best->prio && t->order < best->order)) {
			best = t;
		}
	}
	return best;
}

static void trampoline(void)
{
	struct mk_thread *t = current;

	t->entry(t->arg);
	t->state = MK_DEAD;
	/* uc_link returns to the scheduler */
}

/* getcontext() returns twice: keep it away from the caller's locals */
static int init_context(struct mk_thread *const t)
{
	if (getcontext(&t->uc) != 0) {
		return -1;
	}
	t->uc.uc_stack.ss_sp = t->stack;
	t->uc.uc_stack.ss_size = MK_STACK_SIZE;
	t->uc.uc_link = &sched_uc;
	makecontext(&t->uc, trampoline, 0);
	return 0;
}

struct mk_thread *mk_thread_create(mk_entry_t entry, void *arg, int prio, const char *name)
{
	struct mk_thread *t = NULL;

	for (int i = 0; i < MK_MAX_THREADS; i++) {
		if (threads[i].state == MK_UNUSED) {
			t = &threads[i];
			break;
		}
	}
	if (t == NULL) {
		return NULL;
	}
	t->stack = malloc(MK_STACK_SIZE);
	if (t->stack == NULL || init_context(t) != 0) {
		free(t->stack);
		t->stack = NULL;
		return NULL;
	}
	t->entry = entry;
	t->arg = arg;
	t->prio = prio;
	t->wake_ns = MK_NEVER;
	snprintf(t->name, sizeof(t->name), "%s", name != NULL ? name : "thread");
	make_ready(t, false);
	return t;
}

bool mk_thread_done(const struct mk_thread *t)
{
	return t->state == MK_DEAD || t->state == MK_UNUSED;
}

void mk_thread_abort(struct mk_thread *t)
{
	if (t != NULL && t != current && t->state != MK_UNUSED) {
		waitq_remove(t);
		release(t);
	}
}

/* Switch from the running thread back to the scheduler. */
static void switch_out(void)
{
	struct mk_thread *t = current;

	swapcontext(&t->uc, &sched_uc);
}

static void expire(void)
{
	for (int i = 0; i < MK_MAX_THREADS; i++) {
		struct mk_thread *t = &threads[i];

		if (t->state == MK_PENDING && !t->frozen && t->wake_ns <= now_ns) {
			waitq_remove(t);
			t->swap_ret = -SHIM_EAGAIN;
			make_ready(t, false);
		}
	}
}

static uint64_t next_wake(void)
{
	uint64_t next = MK_NEVER;

	for (int i = 0; i < MK_MAX_THREADS; i++) {
		if (threads[i].state == MK_PENDING && !threads[i].frozen &&
		    threads[i].wake_ns < next) {
			next = threads[i].wake_ns;
		}
	}
	return next;
}

/* Give way to a higher-priority ready thread, if this one may be preempted. */
static void preempt_check(void)
{
	struct mk_thread *t = current;
	struct mk_thread *best;

	if (t == NULL || t->prio < 0 || t->sched_locked != 0) {
		return;
	}
	best = pick();
	if (best != NULL && best->prio < t->prio) {
		make_ready(t, true);
		switch_out();
	}
}

int mk_run(uint64_t end, struct mk_thread *until)
{
	uint64_t end_ns = end == MK_NEVER ? MK_NEVER : tick_ns(end);

	run_end_ns = end_ns;
	for (;;) {
		struct mk_thread *t;
		uint64_t next;

		if (until != NULL && mk_thread_done(until)) {
			run_end_ns = MK_NEVER;
			return 0;
		}
		t = pick();
		if (t != NULL) {
			t->state = MK_RUNNING;
			current = t;
			swapcontext(&sched_uc, &t->uc);
			current = NULL;
			if (t->state == MK_RUNNING) {
				t->state = MK_DEAD;
			}
			if (t->state == MK_DEAD && t != until) {
				release(t);
			}
			if (stop_run) {
				stop_run = false;
				if (now_ns < end_ns) {
					/* a stall: the clock waits where it is */
					run_end_ns = MK_NEVER;
					return MK_STALLED;
				}
				/* a busy wait reached the end: nothing more at the end tick */
				break;
			}
			continue;
		}
		next = next_wake();
		/* the end tick itself is excluded: nothing runs at or after it */
		if (next == MK_NEVER || next >= end_ns) {
			break;
		}
		if (next > now_ns) {
			now_ns = next;
		}
		expire();
	}
	if (end_ns != MK_NEVER && now_ns < end_ns) {
		now_ns = end_ns;
	}
	run_end_ns = MK_NEVER;
	return until != NULL ? -1 : 0;
}

void mk_stall(void)
{
	if (current == NULL) {
		return;
	}
	make_ready(current, true);
	stop_run = true;
	switch_out();
}

bool mk_in_thread(void)
{
	return current != NULL;
}

void mk_freeze_all(bool frozen)
{
	for (int i = 0; i < MK_MAX_THREADS; i++) {
		if (threads[i].state != MK_UNUSED) {
			threads[i].frozen = frozen;
		}
	}
}

/* Block the running thread on q (may be NULL) until woken or timed out. */
static int pend(struct mk_waitq *q, uint64_t wake_ns, void *data)
{
	struct mk_thread *t = current;

	t->state = MK_PENDING;
	t->wake_ns = wake_ns;
	t->swap_data = data;
	t->swap_ret = 0;
	t->waitq = q;
	t->wnext = NULL;
	if (q != NULL) {
		/* by priority, first come first among equals (kernel/sched.c, z_priq_wait_add) */
		struct mk_thread **pp = &q->head;

		while (*pp != NULL && (*pp)->prio <= t->prio) {
			pp = &(*pp)->wnext;
		}
		t->wnext = *pp;
		*pp = t;
		if (t->wnext == NULL) {
			q->tail = t;
		}
	}
	switch_out();
	return t->swap_ret;
}

/*
 * A relative timeout of N ticks expires at tick uptime + N + 1 (kernel/timeout.c,
 * z_add_timeout: dticks = N + 1 + elapsed(); shared/zephyr-reference.md, timeouts).
 */
static uint64_t timeout_ns(int32_t ticks)
{
	if (ticks < 0) {
		return MK_NEVER;
	}
	return tick_ns(mk_ticks() + (uint64_t)ticks + 1U);
}

static struct mk_thread *unpend_first(struct mk_waitq *q)
{
	struct mk_thread *t = q->head;

	if (t != NULL) {
		waitq_remove(t);
		t->swap_ret = 0;
		make_ready(t, false);
	}
	return t;
}

void mk_sleep(int32_t ticks)
{
	if (ticks == 0) {
		make_ready(current, false);
		switch_out();
		return;
	}
	(void)pend(NULL, timeout_ns(ticks), NULL);
}

void mk_sleep_until(uint64_t tick)
{
	if (tick_ns(tick) <= now_ns) {
		return;
	}
	(void)pend(NULL, tick_ns(tick), NULL);
}

void mk_busy_ns(uint64_t ns)
{
	uint64_t end = now_ns + ns;

	while (now_ns < end) {
		uint64_t next = next_wake();

		if (run_end_ns <= end && next >= run_end_ns) {
			/* the run ends during this busy wait: freeze here, resume later */
			now_ns = now_ns > run_end_ns ? now_ns : run_end_ns;
			make_ready(current, true);
			stop_run = true;
			switch_out();
			continue;
		}
		if (next > end) {
			now_ns = end;
			break;
		}
		if (next > now_ns) {
			now_ns = next;
		}
		expire();
		preempt_check();
	}
	expire();
	preempt_check();
}

void mk_sched_lock(void)
{
	if (current != NULL) {
		current->sched_locked++;
	}
}

void mk_sched_unlock(void)
{
	/*
	 * Like k_spin_unlock(): no reschedule here; a thread woken meanwhile runs at the
	 * next kernel call of this one.
	 */
	if (current != NULL && current->sched_locked > 0) {
		current->sched_locked--;
	}
}

void mk_msgq_init(struct mk_msgq *q, uint8_t *buffer, size_t msg_size, uint32_t max_msgs)
{
	memset(q, 0, sizeof(*q));
	q->buffer = buffer;
	q->msg_size = msg_size;
	q->max_msgs = max_msgs;
}

int mk_msgq_put(struct mk_msgq *q, const void *msg, int32_t timeout)
{
	int ret;

	if (q->used == 0U && q->waitq.head != NULL) {
		/* a reader waits: hand the message over */
		struct mk_thread *t = unpend_first(&q->waitq);

		memcpy(t->swap_data, msg, q->msg_size);
		preempt_check();
		return 0;
	}
	if (q->used < q->max_msgs) {
		memcpy(q->buffer + q->write * q->msg_size, msg, q->msg_size);
		q->write = (q->write + 1U) % q->max_msgs;
		q->used++;
		if (q->used > q->high_water) {
			q->high_water = q->used;
		}
		return 0;
	}
	if (timeout == 0) {
		return -SHIM_ENOMSG;
	}
	ret = pend(&q->waitq, timeout_ns(timeout), (void *)msg);
	return ret;
}

int mk_msgq_get(struct mk_msgq *q, void *msg, int32_t timeout)
{
	if (q->used > 0U) {
		memcpy(msg, q->buffer + q->read * q->msg_size, q->msg_size);
		q->read = (q->read + 1U) % q->max_msgs;
		q->used--;
		if (q->waitq.head != NULL) {
			/* a writer waits for room: take its message now */
			struct mk_thread *t = unpend_first(&q->waitq);

			memcpy(q->buffer + q->write * q->msg_size, t->swap_data, q->msg_size);
			q->write = (q->write + 1U) % q->max_msgs;
			q->used++;
			preempt_check();
		}
		return 0;
	}
	if (timeout == 0) {
		return -SHIM_ENOMSG;
	}
	return pend(&q->waitq, timeout_ns(timeout), msg);
}
