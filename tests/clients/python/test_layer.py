"""python-can's raw ctypes layer with the setup strings of python-can 4.5+.

python-can 4.1 always builds "<serial>; <kbps>". Newer releases send
"<serial>;<kbps>" and, for a BitTiming, "<serial>;0;<tseg1>;<tseg2>;<sjw>;<brp>"
at a 32 MHz clock. 4.1 cannot build those, so these tests hand them to 4.1's
own Usb2CanAbstractionLayer (open/send/receive/blocking_receive/close), the
same ctypes calls the newer Usb2canBus makes with them.
"""

import ctypes
import time
import unittest
from ctypes import byref

from pythoncan_on_linux import LIBRARY, can, layer
from clienttest import ClientTestCase, frame_matrix

CanalError = layer.CanalError
CanalMsg = layer.CanalMsg


def bit_timing_setup(serial, timing):
    """The string python-can 4.5+ builds from a BitTiming (usb2canInterface.py)."""
    return f"{serial};0;{timing.tseg1};{timing.tseg2};{timing.sjw};{timing.brp}"


def to_canal(msg):
    """python-can's own tx conversion (flags 0x80000000 | ext | rtr)."""
    from can.interfaces.usb2can.usb2canInterface import message_convert_tx
    return message_convert_tx(msg)


def from_canal(raw):
    from can.interfaces.usb2can.usb2canInterface import message_convert_rx
    return message_convert_rx(raw)


class NewerSetupStrings(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.dll = layer.Usb2CanAbstractionLayer(LIBRARY)
        self.handles = []

    def tearDown(self):
        for h in self.handles:
            self.dll.close(h)
        super().tearDown()

    def open(self, setup, flags=8):
        handle = self.dll.open(setup, flags)  # raises CanInitializationError on <= 0
        self.handles.append(handle)
        return handle

    def close(self, handle):
        self.handles.remove(handle)
        return self.dll.close(handle)

    def receive(self, handle, timeout_ms=2000):
        """Next data frame via CanalBlockingReceive, skipping status messages."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            raw = CanalMsg()
            left = max(1, int((deadline - time.monotonic()) * 1000))
            status = self.dll.blocking_receive(handle, byref(raw), left)
            if status != CanalError.SUCCESS:
                return status, None
            msg = from_canal(raw)
            if not msg.is_error_frame:
                return status, msg
            if time.monotonic() > deadline:
                return CanalError.TIMEOUT, None

    def exchange(self, tx, rx, frames, where):
        for msg in frames:
            self.assertEqual(self.dll.send(tx, byref(to_canal(msg))), CanalError.SUCCESS, where)
            status, got = self.receive(rx)
            self.assertEqual(status, CanalError.SUCCESS, f"{where}: {msg}")
            self.assert_same_frame(got, msg, where)

    def test_bit_timing_string_is_what_python_can_4_5_builds(self):
        timing = can.BitTiming(f_clock=32_000_000, brp=4, tseg1=13, tseg2=2, sjw=1)
        self.assertEqual(timing.bitrate, 500_000)
        self.assertEqual(bit_timing_setup("VIRTUAL0", timing), "VIRTUAL0;0;13;2;1;4")

    def test_every_setup_form_talks_to_a_python_can_4_1_peer(self):
        timing = can.BitTiming(f_clock=32_000_000, brp=4, tseg1=13, tseg2=2, sjw=1)
        for setup in ("VIRTUAL0;500", bit_timing_setup("VIRTUAL0", timing), "VIRTUAL0; 500"):
            with self.subTest(setup=setup):
                h = self.open(setup)
                self.assertGreater(h, 0)
                peer = self.open("VIRTUAL1; 500")
                self.exchange(h, peer, frame_matrix(), f"{setup} -> peer")
                self.exchange(peer, h, frame_matrix(), f"peer -> {setup}")
                self.assertEqual(self.close(h), CanalError.SUCCESS)
                self.assertEqual(self.close(peer), CanalError.SUCCESS)

    def test_receive_and_blocking_receive_when_empty(self):
        h = self.open("VIRTUAL0;500")
        raw = CanalMsg()
        # CanalReceive on an empty queue: FIFO_EMPTY, as the vendor DLL.
        self.assertEqual(self.dll.receive(h, byref(raw)), CanalError.FIFO_EMPTY)
        start = time.monotonic()
        self.assertEqual(self.dll.blocking_receive(h, byref(raw), 200), CanalError.TIMEOUT)
        waited = time.monotonic() - start
        self.assertGreaterEqual(waited, 0.2)
        self.assertLess(waited, 0.3)

    def test_blocking_send_and_receive_of_the_raw_layer(self):
        h = self.open("VIRTUAL0;500")
        peer = self.open("VIRTUAL1;500")
        msg = can.Message(arbitration_id=0x1FFFFFFF, is_extended_id=True, data=b"\x01\x02")
        self.assertEqual(self.dll.blocking_send(h, byref(to_canal(msg)), 500), CanalError.SUCCESS)
        status, got = self.receive(peer)
        self.assertEqual(status, CanalError.SUCCESS)
        self.assert_same_frame(got, msg, "blocking_send")

    def test_close_twice_succeeds_other_calls_fail_python_can_can_read(self):
        h = self.open("VIRTUAL0;500")
        self.assertEqual(self.close(h), CanalError.SUCCESS)
        # Closing a closed handle succeeds, as with the vendor DLL: python-can's
        # shutdown() closes every time it is called and raises unless 0.
        self.assertEqual(self.dll.close(h), CanalError.SUCCESS)
        # Every other call on it fails with a code within 0..37: python-can's
        # CanalError() conversion raises CanOperationError on anything else.
        raw = CanalMsg()
        self.assertEqual(self.dll.receive(h, byref(raw)), CanalError.NOT_OPEN)
        self.assertEqual(self.dll.send(h, byref(raw)), CanalError.NOT_OPEN)
        # A handle never returned by CanalOpen is not open.
        self.assertEqual(self.dll.close(h + 1000), CanalError.NOT_OPEN)

    def test_malformed_setup_strings_fail_the_open(self):
        for setup in ("VIRTUAL0;fast", "VIRTUAL0;0;13;2", "NOSUCHSERIAL1;500"):
            with self.subTest(setup=setup):
                with self.assertRaises(can.CanInitializationError):
                    self.open(setup)

    def test_version_and_vendor_string_as_python_can_sees_them(self):
        self.assertIsInstance(self.dll.get_version(), int)
        self.assertNotEqual(self.dll.get_library_version(), 0)
        # Without restype, python-can gets the pointer truncated to a C int.
        self.assertIsInstance(self.dll.get_vendor_string(), int)
        # With the restype 8devices' patched copy sets, it is a string.
        lib = ctypes.CDLL(LIBRARY)
        lib.CanalGetVendorString.restype = ctypes.c_char_p
        vendor = lib.CanalGetVendorString()
        self.assertTrue(vendor, "CanalGetVendorString returned NULL or an empty string")


if __name__ == "__main__":
    unittest.main()
