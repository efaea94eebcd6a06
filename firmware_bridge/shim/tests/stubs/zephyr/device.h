/* Stand-in for <zephyr/device.h> and the devicetree macros the shim uses. */
#ifndef STUB_ZEPHYR_DEVICE_H_
#define STUB_ZEPHYR_DEVICE_H_

#include <stdbool.h>

struct device {
	const char *name;
	const void *api;
	void *data;
};

/* the chosen nodes this stand-in devicetree has: zephyr,console only */
#define DT_HAS_CHOSEN(prop) STUB_DT_HAS_CHOSEN_##prop
#define STUB_DT_HAS_CHOSEN_zephyr_console 1
#define STUB_DT_HAS_CHOSEN_zsim_shim_uart 0
#define DT_CHOSEN(prop) stub_dt_chosen_##prop
extern const struct device stub_dt_chosen_zephyr_console;
#define DEVICE_DT_GET(node_id) (&(node_id))
/* the properties it has: the console UART's current-speed */
#define DT_PROP_OR(node_id, prop, default_value) STUB_DT_PROP_##prop
#define STUB_DT_PROP_current_speed 115200

bool device_is_ready(const struct device *dev);

#endif
