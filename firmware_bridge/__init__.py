"""firmware_bridge: run zsim scenarios on boards over a serial wire protocol.

``protocol`` is the codec of PROTOCOL.md; ``driver.Device`` the pyserial host driver;
``virtual_board`` serves the simulator behind a pty or loopback socket;
``executor.DeviceExecutor`` runs a ``topology.yaml`` scenario on any device URL;
``crosscheck`` compares a device's run with the simulator's.
"""

from .driver import CommandRejected, Device, DeviceDisconnected, DeviceError, DeviceTimeout
from .protocol import ProtocolError

__all__ = ["CommandRejected", "Device", "DeviceDisconnected", "DeviceError", "DeviceTimeout",
           "ProtocolError"]
