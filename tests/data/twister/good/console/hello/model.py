"""Prints a greeting after two measurements."""


def main(k):
    @k.thread(name="hello", priority=5)
    def hello():
        for rate in (10, 20):
            k.printk(f"rate={rate} unit=pps\n")
            k.msleep(10)
        k.printk("Hello World! native_sim\n")
