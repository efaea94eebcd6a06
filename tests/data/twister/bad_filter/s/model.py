"""Loaded but never run (build_only)."""


def main(k):
    k.printk("never printed\n")
