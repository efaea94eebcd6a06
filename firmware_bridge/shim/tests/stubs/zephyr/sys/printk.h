/* Stand-in for <zephyr/sys/printk.h> (before 3.6 it declares no hook installer). */
#ifndef STUB_ZEPHYR_SYS_PRINTK_H_
#define STUB_ZEPHYR_SYS_PRINTK_H_

void printk(const char *fmt, ...);

#endif
