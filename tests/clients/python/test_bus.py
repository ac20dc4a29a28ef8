"""python-can's ``can.Bus(interface="usb2can", ...)`` on virtual adapters.

Every scenario goes through python-can 4.1 unmodified: its Usb2canBus builds
the setup string ("VIRTUAL0; 500"), passes flags 8, converts frames with its
own ctypes CanalMsg and maps return codes with its CanalError enum.
"""

import os
import tempfile
import threading
import time
import unittest

from pythoncan_on_linux import LIBRARY, RECORDER, can
from clienttest import (STATUS_ACK, STATUS_BUSHEAVY, STATUS_CODES, STATUS_OK, ClientTestCase,
                        describe, frame_matrix, sequence_frame)


class SendReceive(ClientTestCase):
    def test_every_frame_kind_crosses_both_ways_exactly(self):
        bus0 = self.open_bus("VIRTUAL0")
        bus1 = self.open_bus("VIRTUAL1")
        self.assert_exchange(bus0, bus1, frame_matrix(), "VIRTUAL0 -> VIRTUAL1")
        self.assert_exchange(bus1, bus0, frame_matrix(), "VIRTUAL1 -> VIRTUAL0")

    def test_rtr_with_dummy_data_keeps_its_dlc(self):
        bus0 = self.open_bus("VIRTUAL0")
        bus1 = self.open_bus("VIRTUAL1")
        # python-can copies dlc data bytes even for RTR, but Message() drops the
        # data of an RTR frame: dummy bytes have to be assigned afterwards.
        rtr = can.Message(arbitration_id=0x55, is_extended_id=False, is_remote_frame=True, dlc=4)
        with self.assertRaises(IndexError):
            bus0.send(rtr)
        rtr.data = bytearray(4)
        bus0.send(rtr)
        got = self.recv_data_frame(bus1)
        self.assertIsNotNone(got, "the RTR frame did not arrive")
        self.assertEqual((got.is_remote_frame, got.arbitration_id, got.dlc), (True, 0x55, 4),
                         describe(got))

    def test_sender_does_not_receive_its_own_frames(self):
        bus0 = self.open_bus("VIRTUAL0")
        bus1 = self.open_bus("VIRTUAL1")
        bus0.send(can.Message(arbitration_id=0x42, is_extended_id=False, data=b"\x01"))
        self.assertIsNotNone(self.recv_data_frame(bus1), "peer got nothing")
        self.assertIsNone(self.recv_data_frame(bus0, timeout=0.3))

    def test_blocking_send_with_timeout(self):
        bus0 = self.open_bus("VIRTUAL0")
        bus1 = self.open_bus("VIRTUAL1")
        msg = can.Message(arbitration_id=0x1ABCDE, is_extended_id=True, data=b"blocking")
        bus0.send(msg, timeout=0.5)  # CanalBlockingSend(h, &m, 500)
        self.assert_same_frame(self.recv_data_frame(bus1), msg, "send(msg, timeout=0.5)")


class ReceiveTimeouts(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.bus = self.open_bus("VIRTUAL0")
        self.peer = self.open_bus("VIRTUAL1")

    def test_recv_0_returns_none_at_once_when_nothing_is_queued(self):
        start = time.monotonic()
        self.assertIsNone(self.bus.recv(0))
        self.assertLess(time.monotonic() - start, 0.05)

    def test_recv_0_returns_a_queued_frame(self):
        msg = can.Message(arbitration_id=0x7, is_extended_id=False, data=b"\x07")
        self.peer.send(msg)
        deadline = time.monotonic() + 2.0
        got = None
        while got is None and time.monotonic() < deadline:
            got = self.bus.recv(0)
        self.assert_same_frame(got, msg, "recv(0)")

    def test_recv_timeout_waits_the_full_time_and_no_longer(self):
        for timeout in (0.2, 0.05, 0.5):
            start = time.monotonic()
            self.assertIsNone(self.bus.recv(timeout))
            waited = time.monotonic() - start
            self.assertGreaterEqual(waited, timeout, f"recv({timeout}) returned early")
            # python-can re-calls with the truncated remainder; a DLL that
            # returned early would be called with 0 ("forever") and hang here.
            self.assertLess(waited, timeout + 0.1, f"recv({timeout}) overslept")

    def test_recv_none_waits_for_a_frame_from_another_thread_without_spinning(self):
        msg = can.Message(arbitration_id=0x1D, is_extended_id=False, data=b"later")
        sender = threading.Timer(0.5, self.peer.send, args=(msg,))
        cpu_before = time.process_time()
        start = time.monotonic()
        sender.start()
        got = self.bus.recv(None)  # CanalBlockingReceive(h, &m, 0): 0 = forever
        waited = time.monotonic() - start
        cpu = time.process_time() - cpu_before
        sender.join()
        self.assert_same_frame(got, msg, "recv(None)")
        self.assertGreaterEqual(waited, 0.45)
        # A DLL that treats 0 as "poll" makes python-can spin for the whole wait.
        self.assertLess(cpu, 0.2, f"recv(None) burnt {cpu:.3f} s of CPU in {waited:.3f} s")


class RecvRemainders(ClientTestCase):
    """python-can's recv(timeout) passes int(timeout * 1000) ms and, when that
    runs out or a frame fails its filters, calls again with the remaining
    time, truncated to whole ms. Whatever the DLL does with those calls,
    recv(timeout) must return about `timeout` seconds later."""

    def bounded_recv(self, bus, timeout):
        """(result, seconds) of bus.recv(timeout); fails if it is still waiting
        well after the timeout (then closes the bus to free the thread)."""
        outcome = []

        def call():
            start = time.monotonic()
            try:
                outcome.append(bus.recv(timeout))
            except can.CanError as error:
                outcome.append(error)
            outcome.append(time.monotonic() - start)

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(timeout + 1.0)
        if thread.is_alive():
            self.shutdown(bus)
            thread.join(2.0)
            self.fail(f"recv({timeout}) still blocked {timeout + 1.0:.1f} s later: "
                      "the truncated remainder became CanalBlockingReceive(h, m, 0)")
        return outcome[0], outcome[1]

    def test_recv_with_a_timeout_of_fractional_milliseconds(self):
        for timeout in (0.2509, 0.0509, 0.0019):
            with self.subTest(timeout=timeout):
                bus = self.open_bus("VIRTUAL0")
                got, waited = self.bounded_recv(bus, timeout)
                self.assertIsNone(got)
                self.assertGreaterEqual(waited, timeout)
                self.assertLess(waited, timeout + 0.1)
                self.shutdown(bus)

    def test_recv_with_filters_when_only_other_frames_arrive(self):
        # The rejected frame leaves a remainder with a random fraction of a
        # millisecond; the trap springs whenever the DLL's wait does not
        # overshoot it (most runs), so this may pass by luck, never wrongly fail.
        bus = self.open_bus("VIRTUAL0", can_filters=[{"can_id": 0x100, "can_mask": 0x7FF,
                                                       "extended": False}])
        peer = self.open_bus("VIRTUAL1")
        other = can.Message(arbitration_id=0x200, is_extended_id=False, data=b"other")
        threading.Timer(0.1, peer.send, args=(other,)).start()
        got, waited = self.bounded_recv(bus, 0.5)
        self.assertIsNone(got, f"the filter let {describe(got)} through")
        self.assertGreaterEqual(waited, 0.5)
        self.assertLess(waited, 0.6)


class StatusMessages(ClientTestCase):
    """A sender alone on the bus collects ACK errors, as on real hardware."""

    def lone_sender_messages(self, flags, duration):
        bus = self.open_bus("VIRTUAL2", flags=flags)
        bus.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=b"alone"))
        got = []
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            msg = bus.recv(0.1)
            if msg is not None:
                got.append(msg)
                if flags & 8 and msg.is_error_frame and msg.arbitration_id == STATUS_BUSHEAVY:
                    break
        start = time.monotonic()
        self.shutdown(bus)  # with the frame still unacknowledged
        self.assertLess(time.monotonic() - start, 2.0, "shutdown hung on a pending frame")
        return got

    def test_status_messages_arrive_as_error_frames_with_flags_8(self):
        got = self.lone_sender_messages(flags=8, duration=5.0)
        self.assertTrue(got, "no status message in 5 s from a sender alone on the bus")
        for msg in got:
            self.assertTrue(msg.is_error_frame, f"not a status message: {describe(msg)}")
            self.assertIn(msg.arbitration_id, STATUS_CODES, describe(msg))
            self.assertEqual(msg.data[0], msg.arbitration_id,
                             f"data[0] must repeat the status code: {describe(msg)}")
        codes = [m.arbitration_id for m in got]
        self.assertIn(STATUS_ACK, codes, "no ACK-error status message")
        self.assertIn(STATUS_BUSHEAVY, codes, f"never went error-passive: {codes}")
        heavy = next(m for m in got if m.arbitration_id == STATUS_BUSHEAVY)
        self.assertGreaterEqual(heavy.data[2], 128, f"TEC below 128: {describe(heavy)}")

    def test_no_status_messages_with_flags_0(self):
        # The first ACK error comes with the first transmission attempt.
        got = self.lone_sender_messages(flags=0, duration=1.5)
        self.assertEqual([describe(m) for m in got], [])


class Throughput(ClientTestCase):
    def test_notifier_and_buffered_reader_get_10000_frames_in_order(self):
        count = 10000
        rx = self.open_bus("VIRTUAL1")
        tx = self.open_bus("VIRTUAL0")
        reader = can.BufferedReader()
        notifier = can.Notifier(rx, [reader])  # calls rx.recv(1.0) on its thread
        self.addCleanup(notifier.stop)
        start = time.monotonic()
        for i in range(count):
            tx.send(sequence_frame(i), timeout=1.0)
        received, status_codes = [], set()
        deadline = time.monotonic() + 60
        while len(received) < count and time.monotonic() < deadline:
            msg = reader.get_message(timeout=0.5)
            if msg is None:
                continue
            if msg.is_error_frame:
                status_codes.add(msg.arbitration_id)
                continue
            received.append(msg)
        elapsed = time.monotonic() - start
        print(f"\n    10000 frames through Notifier/BufferedReader in {elapsed:.2f} s "
              f"({len(received) / elapsed:.0f} frames/s)", end=" ", flush=True)
        self.assertEqual(len(received), count, f"lost {count - len(received)} frames")
        for i, msg in enumerate(received):
            self.assert_same_frame(msg, sequence_frame(i), f"frame {i}")
        stamps = [m.timestamp for m in received]
        self.assertTrue(all(b >= a for a, b in zip(stamps, stamps[1:])),
                        "timestamps go backwards")
        # Nothing but "OK" status messages may appear on a healthy two-node bus.
        self.assertLessEqual(status_codes, {STATUS_OK}, "error status on a healthy bus")
        self.assertIsNone(reader.get_message(timeout=0.2), "more frames than were sent")


class Lifecycle(ClientTestCase):
    def test_shutdown_then_reopen_the_same_serial(self):
        bus = self.open_bus("VIRTUAL0")
        self.shutdown(bus)  # raises CanOperationError unless CanalClose returned 0
        again = self.open_bus("VIRTUAL0")
        peer = self.open_bus("VIRTUAL1")
        self.assert_exchange(peer, again, frame_matrix()[:3], "after reopen")

    def test_a_closed_bus_reports_errors_instead_of_success(self):
        bus = self.open_bus("VIRTUAL0")
        self.shutdown(bus)
        with self.assertRaises(can.CanOperationError):
            bus.send(can.Message(arbitration_id=1, is_extended_id=False, data=b""))
        with self.assertRaises(can.CanOperationError):
            bus.recv(0.1)

    def test_shutdown_wakes_a_thread_blocked_in_recv(self):
        bus = self.open_bus("VIRTUAL0")
        outcome = []

        def reader():
            try:
                outcome.append(bus.recv(None))
            except can.CanError as error:
                outcome.append(error)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        time.sleep(0.3)
        self.assertTrue(thread.is_alive(), "recv(None) returned without a frame")
        start = time.monotonic()
        self.shutdown(bus)
        thread.join(2.0)
        self.assertFalse(thread.is_alive(), "recv(None) still blocked after shutdown")
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertIsInstance(outcome[0], can.CanOperationError)

    def test_several_buses_on_different_serials_at_once(self):
        buses = [self.open_bus(f"VIRTUAL{n}") for n in (0, 1, 3)]
        self.assertEqual(len({b.channel_info for b in buses}), 3)
        for sender in buses:
            msg = can.Message(arbitration_id=0x600 + len(sender.channel_info),
                              is_extended_id=False, data=sender.channel_info[-8:].encode())
            sender.send(msg)
            for receiver in buses:
                if receiver is not sender:
                    self.assert_same_frame(self.recv_data_frame(receiver), msg,
                                           f"{sender.channel_info} -> {receiver.channel_info}")


class RepeatedShutdown(ClientTestCase):
    """python-can 4.1's shutdown() calls CanalClose every time and raises
    CanOperationError unless it returns 0: closing twice must succeed."""

    def test_shutdown_twice_raises_nothing(self):
        bus = self.open_bus("VIRTUAL0")
        self.shutdown(bus)
        self.shutdown(bus)  # raised "could not shut down bus" before
        # The closed bus still reports errors for anything else.
        with self.assertRaises(can.CanOperationError):
            bus.send(can.Message(arbitration_id=1, is_extended_id=False, data=b""))

    def test_with_block_plus_explicit_shutdown_raises_nothing(self):
        msg = can.Message(arbitration_id=0x3A, is_extended_id=False, data=b"with")
        peer = self.open_bus("VIRTUAL1")
        with can.Bus(interface="usb2can", channel="VIRTUAL0", bitrate=500000,
                     dll=LIBRARY) as bus:
            bus.send(msg)
            self.assert_same_frame(self.recv_data_frame(peer), msg, "inside the with block")
            bus.shutdown()  # explicit; __exit__ shuts it down again
        # The adapter is free again.
        again = self.open_bus("VIRTUAL0")
        again.send(msg)
        self.assert_same_frame(self.recv_data_frame(peer), msg, "after the with block")


class BackToBack(unittest.TestCase):
    """The shape of python-can's own back-to-back tests: two buses opened in
    setUp and shut down in tearDown, whatever the test did to them."""

    def setUp(self):
        self.bus1 = can.Bus(interface="usb2can", channel="VIRTUAL0", bitrate=500000, dll=LIBRARY)
        self.bus2 = can.Bus(interface="usb2can", channel="VIRTUAL1", bitrate=500000, dll=LIBRARY)

    def tearDown(self):
        self.bus1.shutdown()
        self.bus2.shutdown()

    def test_multiple_shutdown(self):
        # tearDown shuts bus1 down a second time: that must not raise.
        self.bus1.shutdown()

    def test_send_then_shutdown(self):
        msg = can.Message(arbitration_id=0x123, is_extended_id=False, data=b"b2b")
        self.bus1.send(msg)
        got = self.bus2.recv(2.0)
        while got is not None and got.is_error_frame:
            got = self.bus2.recv(2.0)
        self.assertIsNotNone(got)
        self.assertEqual(bytes(got.data), b"b2b")


class Bitrates(ClientTestCase):
    def test_truncated_kbps_rates_open_and_talk_to_a_peer_at_the_same_rate(self):
        # python-can passes bitrate // 1000: "62" and "33".
        for bitrate in (62500, 33333):
            with self.subTest(bitrate=bitrate):
                bus0 = self.open_bus("VIRTUAL0", bitrate=bitrate)
                bus1 = self.open_bus("VIRTUAL1", bitrate=bitrate)
                self.assert_exchange(bus0, bus1, frame_matrix()[:10], f"{bitrate} bit/s")
                self.assert_exchange(bus1, bus0, frame_matrix()[10:], f"{bitrate} bit/s")
                self.shutdown(bus0)
                self.shutdown(bus1)


class WhatPythonCanPasses(ClientTestCase):
    """Through the pass-through recorder: the exact CANAL calls python-can makes."""

    def setUp(self):
        super().setUp()
        if not RECORDER or not os.path.isfile(RECORDER):
            self.fail(f"the recorder library is missing: {RECORDER!r}")
        handle, self.log = tempfile.mkstemp(prefix="u2c-canal-calls-")
        os.close(handle)
        self.addCleanup(os.unlink, self.log)
        os.environ["U2C_RECORDER_TARGET"] = LIBRARY
        os.environ["U2C_RECORDER_LOG"] = self.log

    def calls(self):
        with open(self.log) as f:
            return [line.rstrip("\n").split("\t") for line in f]

    def test_open_string_flags_and_call_pattern(self):
        for bitrate, kbps in ((500000, "500"), (62500, "62"), (33333, "33"), (2000000, "1000")):
            with self.subTest(bitrate=bitrate):
                open(self.log, "w").close()
                bus = self.open_bus("VIRTUAL0", bitrate=bitrate, dll=RECORDER)
                self.assertEqual(self.calls()[0], ["CanalOpen", f"VIRTUAL0; {kbps}", "8"])
                self.shutdown(bus)

        open(self.log, "w").close()
        bus = self.open_bus("VIRTUAL0", dll=RECORDER)
        peer = self.open_bus("VIRTUAL1")  # straight on the library: the same virtual bus
        self.assertEqual(self.calls()[0][0], "CanalOpen")
        self.assertIsNone(bus.recv(0))
        self.assertIsNone(bus.recv(0.2))
        msg = can.Message(arbitration_id=0x77, is_extended_id=False, data=b"\x77")
        bus.send(msg)
        bus.send(msg, timeout=0.5)
        self.assert_same_frame(self.recv_data_frame(peer), msg, "through the recorder")
        self.assert_same_frame(self.recv_data_frame(peer), msg, "through the recorder")
        threading.Timer(0.2, peer.send, args=(msg,)).start()
        self.assert_same_frame(bus.recv(None), msg, "recv(None) through the recorder")
        self.shutdown(bus)
        calls = self.calls()
        h = calls[1][1] if len(calls) > 1 else "(no call after CanalOpen)"
        self.assertEqual(calls[1:], [
            ["CanalReceive", h],
            ["CanalBlockingReceive", h, "200"],  # once: the DLL never returns early
            ["CanalSend", h],
            ["CanalBlockingSend", h, "500"],
            ["CanalBlockingReceive", h, "0"],    # recv(None): 0 must mean forever
            ["CanalClose", h],
        ])


if __name__ == "__main__":
    unittest.main()
