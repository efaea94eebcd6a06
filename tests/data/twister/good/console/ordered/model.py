"""Prints the expected lines in the wrong order, then ztest's success verdict."""


def main(k):
    @k.thread(name="out", priority=5)
    def out():
        k.printk("beta\n")
        k.msleep(1)
        k.printk("alpha\n")
        k.msleep(1)
        k.printk("PROJECT EXECUTION SUCCESSFUL\n")
