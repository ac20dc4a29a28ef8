"""python-can on a modelled USB2CAN reached through real libusb (umockdev).

The process runs with umockdev's preload library; the rig of tests/support
(loaded from U2C_E2E_RIG) plugs a vendor-firmware USB2CAN "ED000200" whose
CAN bus has a second, modelled node at the far end. python-can opens it
exactly as it would a real adapter: "ED000200; 500", flags 8.
"""

import ctypes
import os
import time
import unittest

from pythoncan_on_linux import can
from clienttest import ClientTestCase, describe, frame_matrix, sequence_frame

FRAMES_EACH_WAY = 100
SERIAL = "ED000200"


def load_rig():
    path = os.environ.get("U2C_E2E_RIG", "")
    if not path or not os.path.isfile(path):
        raise RuntimeError(f"U2C_E2E_RIG does not name the rig library: {path!r}")
    if "umockdev" not in os.environ.get("LD_PRELOAD", ""):
        raise RuntimeError("not running under umockdev's preload library")
    rig = ctypes.CDLL(path)
    rig.e2e_rig_plug.restype = ctypes.c_void_p
    rig.e2e_rig_plug.argtypes = [ctypes.c_char_p, ctypes.c_uint]
    rig.e2e_rig_unplug_all.argtypes = [ctypes.c_void_p]
    rig.e2e_far_send.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_char_p]
    rig.e2e_far_received_total.restype = ctypes.c_ulong
    rig.e2e_far_received_total.argtypes = [ctypes.c_void_p]
    rig.e2e_far_received.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                     ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int),
                                     ctypes.POINTER(ctypes.c_int), ctypes.c_char * 8]
    return rig


class ModelledAdapterThroughLibusb(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.rig = load_rig()
        self.device = self.rig.e2e_rig_plug(SERIAL.encode(), 500)
        self.assertTrue(self.device, "the rig could not plug a modelled ED000200")
        # Registered first, so it runs after every bus is shut down.
        self.addCleanup(self.rig.e2e_rig_unplug_all, self.device)

    def far_send(self, msg):
        data = bytes(msg.data).ljust(8, b"\0")
        deadline = time.monotonic() + 5
        while self.rig.e2e_far_send(self.device, msg.arbitration_id, int(msg.is_extended_id),
                                    int(msg.is_remote_frame), msg.dlc, data) != 1:
            self.assertLess(time.monotonic(), deadline, "the far end's queue stays full")
            time.sleep(0.01)

    def far_received(self, index):
        ident, flags, dlc = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_int()
        data = (ctypes.c_char * 8)()
        if not self.rig.e2e_far_received(self.device, index, ctypes.byref(ident),
                                         ctypes.byref(flags), ctypes.byref(dlc), data):
            return None
        return can.Message(arbitration_id=ident.value, is_extended_id=bool(flags.value & 1),
                           is_remote_frame=bool(flags.value & 2), dlc=dlc.value,
                           data=None if flags.value & 2 else bytes(data)[:dlc.value])

    def wait_far_total(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.rig.e2e_far_received_total(self.device) < count:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return self.rig.e2e_far_received_total(self.device)

    def frames(self):
        matrix = frame_matrix()
        return [matrix[i] if i < len(matrix) else sequence_frame(i)
                for i in range(FRAMES_EACH_WAY)]

    def test_python_can_bus_to_the_far_end_and_back(self):
        bus = self.open_bus(SERIAL)
        frames = self.frames()
        start = time.monotonic()
        for msg in frames:
            bus.send(msg, timeout=1.0)
        total = self.wait_far_total(len(frames))
        self.assertEqual(total, len(frames), "frames lost on the way to the far end")
        for i, sent in enumerate(frames):
            self.assert_same_frame(self.far_received(i), sent, f"to the far end, frame {i}")

        for msg in frames:
            self.far_send(msg)
        for i, sent in enumerate(frames):
            self.assert_same_frame(self.recv_data_frame(bus, 2.0), sent, f"from the far end, frame {i}")
        self.assertIsNone(self.recv_data_frame(bus, 0.2), "more frames than the far end sent")
        print(f"\n    {len(frames)} frames each way through libusb in "
              f"{time.monotonic() - start:.2f} s", end=" ", flush=True)

    def test_recv_timeouts_through_usb(self):
        bus = self.open_bus(SERIAL)
        start = time.monotonic()
        self.assertIsNone(bus.recv(0))
        self.assertLess(time.monotonic() - start, 0.05)
        start = time.monotonic()
        self.assertIsNone(bus.recv(0.2))
        waited = time.monotonic() - start
        self.assertGreaterEqual(waited, 0.2)
        self.assertLess(waited, 0.3)

    def test_shutdown_and_reopen(self):
        bus = self.open_bus(SERIAL)
        self.shutdown(bus)
        bus = self.open_bus(SERIAL)
        msg = can.Message(arbitration_id=0x3A1, is_extended_id=False, data=b"again")
        bus.send(msg)
        self.assertEqual(self.wait_far_total(1), 1)
        self.assert_same_frame(self.far_received(0), msg, "after reopen")

    def test_unknown_serial_fails_the_open(self):
        with self.assertRaises(can.CanInitializationError):
            self.open_bus("ED000299")

    def test_loopback_flag_returns_own_frames(self):
        bus = self.open_bus(SERIAL, flags=8 | 2)
        frames = self.frames()[:20]
        for msg in frames:
            bus.send(msg, timeout=1.0)
        for i, sent in enumerate(frames):
            got = self.recv_data_frame(bus, 2.0)
            self.assert_same_frame(got, sent, f"looped back, frame {i}: {describe(got)}")


if __name__ == "__main__":
    unittest.main()
