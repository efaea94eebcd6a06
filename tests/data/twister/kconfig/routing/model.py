"""Prints which packet_io options the build has."""


def main(k):
    @k.thread(name="report", priority=5)
    def report():
        k.printk("stats=%s observers=%s\n", k.config.enabled("PACKET_IO_STATS"),
                 k.config.enabled("PACKET_IO_RUNTIME_OBSERVERS"))
