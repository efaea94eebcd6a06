/* Stand-in for <zephyr/sys/printk-hooks.h> (Zephyr 3.6 and later). */
#ifndef STUB_ZEPHYR_SYS_PRINTK_HOOKS_H_
#define STUB_ZEPHYR_SYS_PRINTK_HOOKS_H_

typedef int (*printk_hook_fn_t)(int c);
void __printk_hook_install(printk_hook_fn_t fn);

#endif
