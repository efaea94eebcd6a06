/* Stand-in for <zephyr/sys/dlist.h>. */
#ifndef STUB_ZEPHYR_SYS_DLIST_H_
#define STUB_ZEPHYR_SYS_DLIST_H_

struct _dnode {
	struct _dnode *head;
	struct _dnode *next;
};
typedef struct _dnode sys_dlist_t;
typedef struct _dnode sys_dnode_t;

void sys_dlist_init(sys_dlist_t *list);
sys_dnode_t *sys_dlist_peek_head(sys_dlist_t *list);
sys_dnode_t *sys_dlist_peek_next(sys_dlist_t *list, sys_dnode_t *node);

#define SYS_DLIST_FOR_EACH_CONTAINER(list, cn, n)                                          \
	for (cn = CONTAINER_OF(sys_dlist_peek_head(list), __typeof__(*(cn)), n); cn != NULL; \
	     cn = CONTAINER_OF(sys_dlist_peek_next(list, &(cn)->n), __typeof__(*(cn)), n))

#endif
