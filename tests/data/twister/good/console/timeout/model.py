"""Boots, then keeps running without ever printing the awaited line."""


def main(k):
    @k.thread(name="busy", priority=5)
    def busy():
        k.printk("booting\n")
        n = 0
        while True:
            k.msleep(500)
            n += 1
            k.printk(f"tick {n}\n")
