"""Shared pieces of the python-can client tests.

Contract: ``ClientTestCase`` gives every test a watchdog (a hung test dumps
its stacks and ends the process with a failure instead of blocking CTest)
and closes every bus it opened, so each test starts with no virtual adapter
open; ``frame_matrix()`` is the set of frames every send/receive scenario
moves; ``assert_same_frame`` compares what python-can hands the application.
"""

import faulthandler
import sys
import time
import unittest

from pythoncan_on_linux import LIBRARY, can

WATCHDOG_S = 60

# CANAL status message codes (the id of a CANAL_IDFLAG_STATUS message).
STATUS_OK = 0x00
STATUS_BUSLIGHT = 0x02
STATUS_BUSHEAVY = 0x03
STATUS_BUSOFF = 0x04
STATUS_ACK = 0x23
STATUS_CODES = {0x00, 0x01, 0x02, 0x03, 0x04, 0x20, 0x21, 0x23, 0x24, 0x25, 0x27}


def frame_matrix():
    """Standard, extended and RTR frames of every length python-can can send."""
    frames = []
    for dlc in range(9):
        frames.append(can.Message(arbitration_id=0x100 + dlc, is_extended_id=False,
                                  data=bytes((0xA0 + dlc + k * 17) & 0xFF for k in range(dlc))))
    for dlc in range(9):
        frames.append(can.Message(arbitration_id=0x18DA0000 + dlc, is_extended_id=True,
                                  data=bytes((0x3C * (k + 1) + dlc) & 0xFF for k in range(dlc))))
    frames += [
        can.Message(arbitration_id=0x000, is_extended_id=False, data=b""),
        can.Message(arbitration_id=0x7FF, is_extended_id=False, data=bytes(range(0xF8, 0x100))),
        can.Message(arbitration_id=0x00000000, is_extended_id=True, data=b"\x00"),
        can.Message(arbitration_id=0x1FFFFFFF, is_extended_id=True, data=b"\xff" * 8),
        # python-can's tx conversion copies dlc data bytes, so RTR goes with dlc 0.
        can.Message(arbitration_id=0x321, is_extended_id=False, is_remote_frame=True, dlc=0),
        can.Message(arbitration_id=0x1234567, is_extended_id=True, is_remote_frame=True, dlc=0),
    ]
    return frames


def sequence_frame(i):
    """Frame number i of a long stream: its content encodes i."""
    dlc = 2 + i % 7
    payload = i.to_bytes(2, "big") + bytes((i * 13 + k) & 0xFF for k in range(dlc - 2))
    if i % 4 == 3:
        return can.Message(arbitration_id=0x10000000 | i, is_extended_id=True, data=payload)
    return can.Message(arbitration_id=i & 0x7FF, is_extended_id=False, data=payload)


def describe(msg):
    if msg is None:
        return "None"
    kind = "ERR" if msg.is_error_frame else ("RTR" if msg.is_remote_frame else "DATA")
    ext = "ext" if msg.is_extended_id else "std"
    return f"{kind} {ext} id=0x{msg.arbitration_id:X} dlc={msg.dlc} data={bytes(msg.data).hex()}"


class ClientTestCase(unittest.TestCase):
    """Watchdog and bus cleanup for every client test."""

    def setUp(self):
        faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=sys.stderr)
        self.addCleanup(faulthandler.cancel_dump_traceback_later)

    def open_bus(self, channel, bitrate=500000, dll=None, **kwargs):
        """A python-can Bus exactly as a user creates it, closed after the test."""
        bus = can.Bus(interface="usb2can", channel=channel, bitrate=bitrate,
                      dll=dll or LIBRARY, **kwargs)
        self.addCleanup(self._shutdown_quietly, bus)
        return bus

    @staticmethod
    def _shutdown_quietly(bus):
        if getattr(bus, "_test_closed", False):
            return
        bus._test_closed = True
        try:
            bus.shutdown()
        except can.CanError:
            pass

    def shutdown(self, bus):
        """Shuts a bus down inside the test (errors count)."""
        bus._test_closed = True
        bus.shutdown()

    def assert_same_frame(self, got, sent, where=""):
        self.assertIsNotNone(got, f"{where}: no frame arrived for {describe(sent)}")
        self.assertFalse(got.is_error_frame, f"{where}: got a status message {describe(got)}")
        self.assertEqual(
            (got.arbitration_id, got.is_extended_id, got.is_remote_frame, got.dlc),
            (sent.arbitration_id, sent.is_extended_id, sent.is_remote_frame, sent.dlc),
            f"{where}: sent {describe(sent)}, got {describe(got)}")
        if not sent.is_remote_frame:
            self.assertEqual(bytes(got.data), bytes(sent.data),
                             f"{where}: sent {describe(sent)}, got {describe(got)}")

    def recv_data_frame(self, bus, timeout=2.0):
        """Next non-status message within timeout (None if none)."""
        deadline = time.monotonic() + timeout
        while True:
            # Whole milliseconds up to 1 s only: python-can truncates a fraction
            # and calls again with the rest, which can become 0 ms ("forever").
            # RecvRemainders tests that trap on purpose; nothing else may.
            left_ms = min(1000, int((deadline - time.monotonic()) * 1000))
            if left_ms < 1:
                return None
            msg = bus.recv(left_ms / 1000)
            if msg is None or not msg.is_error_frame:
                return msg

    def assert_exchange(self, sender, receiver, frames, where=""):
        """Every frame sent on sender arrives intact and in order on receiver."""
        for msg in frames:
            sender.send(msg)
            self.assert_same_frame(self.recv_data_frame(receiver), msg, where)
