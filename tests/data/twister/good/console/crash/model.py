"""A thread that raises before printing the awaited line."""


def main(k):
    @k.thread(name="crasher", priority=5)
    def crasher():
        k.printk("about to fail\n")
        k.msleep(5)
        raise RuntimeError("sensor buffer overrun")
