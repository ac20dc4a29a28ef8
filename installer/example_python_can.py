"""Send a CAN frame from one usb2can adapter to another with python-can.

Runs as is on any Windows machine where the usb2can installer ran: it uses the
two virtual adapters VIRTUAL0 and VIRTUAL1, which share one in-process virtual
CAN bus, so no hardware is needed. For a real adapter, pass its serial number
(printed on the adapter and by `usb2can-cli list`) as the channel instead.

The installer put the 64-bit usb2can.dll in System32 and the 32-bit one in
SysWOW64, so python-can finds "usb2can.dll" by name from 32-bit and 64-bit
Python alike: no dll= path and no copy next to the script.

    py -m pip install python-can
    py example_python_can.py
"""

import sys

import can


def open_bus(channel):
    # flags=0x08 (python-can's default) also delivers the adapter's status
    # frames, which arrive as error frames; receive() below skips them.
    return can.Bus(interface="usb2can", channel=channel, bitrate=500000)


def receive(bus, timeout_s):
    while True:
        msg = bus.recv(timeout=timeout_s)
        if msg is None or not msg.is_error_frame:
            return msg


def main():
    sender_channel = sys.argv[1] if len(sys.argv) > 1 else "VIRTUAL0"
    receiver_channel = sys.argv[2] if len(sys.argv) > 2 else "VIRTUAL1"
    with open_bus(sender_channel) as sender, open_bus(receiver_channel) as receiver:
        sent = can.Message(arbitration_id=0x123, data=[0xDE, 0xAD, 0xBE, 0xEF], is_extended_id=False)
        sender.send(sent)
        received = receive(receiver, timeout_s=1.0)
        if received is None:
            print(f"{receiver_channel}: nothing received within 1 s", file=sys.stderr)
            return 1
        print(f"{sender_channel} sent     {sent}")
        print(f"{receiver_channel} received {received}")
        same = (received.arbitration_id, bytes(received.data)) == (sent.arbitration_id, bytes(sent.data))
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
