#!/usr/bin/python3
"""usb2can-cli serve against real socketcand clients (python-can's own
`socketcand` interface, Debian's python3-can) and against hostile peers.

    serve_test.py CLI pythoncan|bcm|hostile|allow

Each case starts `CLI serve ...` on a free loopback port, checks what the
clients see, stops the server with SIGINT and requires exit status 0 and a
sanitizer-clean stderr. Every wait is bounded; only loopback is used.
"""
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time

CLI = None


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, args, listen_port=None):
        self.port = listen_port or free_port()
        cmd = [CLI, "serve"] + args
        if not any(a.startswith("--listen") for a in args):
            cmd += ["--listen", "127.0.0.1:%d" % self.port]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "listening on" in line:
                return
        self.proc.kill()
        fail("server did not start: %r %r" % (self.lines, self.proc.stderr.read()))

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop within 20 s of SIGINT")
        self.lines += out.splitlines(True)
        check(self.proc.returncode == 0, "server exit %d: %s" % (self.proc.returncode, err[-2000:]))
        check("Sanitizer" not in err and "runtime error" not in err, "sanitizer: " + err[-3000:])
        return "".join(self.lines)


class Raw:
    """A socketcand client on a plain socket (what Kayak and others do)."""

    def __init__(self, port, bus=None, mode="rawmode", source=None):
        self.s = socket.socket()
        if source:
            self.s.bind((source, 0))
        self.s.settimeout(5)
        self.s.connect(("127.0.0.1", port))
        self.buf = ""
        if bus:
            check(self.element() == "< hi >", "greeting")
            self.send("< open %s >" % bus)
            check(self.element() == "< ok >", "open %s" % bus)
            if mode:
                self.send("< %s >" % mode)
                check(self.element() == "< ok >", mode)

    def send(self, text):
        self.s.sendall(text.encode("latin-1") if isinstance(text, str) else text)

    def element(self, timeout=2.0):
        deadline = time.monotonic() + timeout
        while True:
            start = self.buf.find("<")
            end = self.buf.find(">", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0:
                e = self.buf[start:end + 1]
                self.buf = self.buf[end + 1:]
                return e
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data.decode("latin-1")

    def elements_for(self, seconds):
        out = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            e = self.element(max(0.0, deadline - time.monotonic()))
            if e is None:
                break
            out.append(e)
        return out

    def close(self):
        self.s.close()


def pythoncan_bus(port, channel, **kw):
    from can.interfaces.socketcand.socketcand import SocketCanDaemonBus
    return SocketCanDaemonBus(channel=channel, host="127.0.0.1", port=port, **kw)


def recv_all(bus, count, timeout):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        m = bus.recv(max(0.0, deadline - time.monotonic()))
        if m is not None:
            got.append(m)
    return got


def case_pythoncan():
    import can
    srv = Server(["VIRTUAL0", "VIRTUAL1"])
    a = pythoncan_bus(srv.port, "VIRTUAL0")
    b = pythoncan_bus(srv.port, "VIRTUAL0")
    c = pythoncan_bus(srv.port, "virtual1")  # bus names match case-insensitively
    filtered = pythoncan_bus(srv.port, "VIRTUAL0", can_filters=[{"can_id": 0x200, "can_mask": 0x7FF}])
    time.sleep(0.1)  # past the server's hold after "< ok >"

    a.send(can.Message(arbitration_id=0x123, data=[1, 2, 3], is_extended_id=False))
    for name, bus in (("b (same bus)", b), ("c (other adapter)", c)):
        m = bus.recv(2.0)
        check(m is not None, name + " did not receive a's frame")
        check(m.arbitration_id == 0x123 and bytes(m.data) == b"\x01\x02\x03" and m.dlc == 3,
              "%s got %s" % (name, m))
        check(abs(m.timestamp - time.time()) < 5, "timestamp is wall-clock seconds: %s" % m.timestamp)
    check(a.recv(0.3) is None, "a received its own frame")
    check(filtered.recv(0.3) is None, "python-can filter let 0x123 through")

    c.send(can.Message(arbitration_id=0x1ABCDEF0, data=b"\x11\x22\x33\x44\x55\x66\x77\x88",
                       is_extended_id=True))
    for name, bus in (("a", a), ("b", b)):
        m = bus.recv(2.0)
        check(m is not None and m.arbitration_id == 0x1ABCDEF0 and m.dlc == 8 and
              bytes(m.data) == b"\x11\x22\x33\x44\x55\x66\x77\x88", "%s got %s" % (name, m))
    check(c.recv(0.3) is None, "c received its own frame")

    b.send(can.Message(arbitration_id=0x200, data=[0xAA], is_extended_id=False))
    m = filtered.recv(2.0)
    check(m is not None and m.arbitration_id == 0x200, "filtered client missed 0x200: %s" % m)
    check(a.recv(1.0) is not None, "a missed b's frame")
    check(c.recv(1.0) is not None, "c missed b's frame")
    check(b.recv(0.3) is None, "b received its own frame")

    # back2back style: a burst from two clients at once, every frame in order, none echoed.
    n = 300
    for i in range(n):
        a.send(can.Message(arbitration_id=0x300, data=i.to_bytes(2, "big"), is_extended_id=False))
        b.send(can.Message(arbitration_id=0x301, data=i.to_bytes(2, "big"), is_extended_id=False))
    got = {"a": recv_all(a, n, 10), "b": recv_all(b, n, 10), "c": recv_all(c, 2 * n, 15)}
    check(all(m.arbitration_id == 0x301 for m in got["a"]), "a saw its own burst")
    check(all(m.arbitration_id == 0x300 for m in got["b"]), "b saw its own burst")
    check([int.from_bytes(m.data, "big") for m in got["a"]] == list(range(n)), "a: lost or reordered")
    seq_b = [int.from_bytes(m.data, "big") for m in got["b"]]
    check(seq_b == list(range(n)), "b: lost or reordered: %d frames, first wrong at %s" % (len(seq_b), next((i for i, v in enumerate(seq_b) if v != i), None)))
    for ident in (0x300, 0x301):
        seq = [int.from_bytes(m.data, "big") for m in got["c"] if m.arbitration_id == ident]
        check(seq == list(range(n)), "c: %x lost or reordered (%d)" % (ident, len(seq)))
    for bus in (a, b, c, filtered):
        bus.shutdown()
    log = srv.stop()
    check(log.count("connected;") == 4, "four connections logged")
    print("pythoncan: 3 clients + 1 filtered, %d-frame bursts from 2 clients seen in order by the "
          "others, none echoed" % n)


def case_bcm():
    srv = Server(["VIRTUAL0", "VIRTUAL1"])
    raw = Raw(srv.port, "VIRTUAL1")
    bcm = Raw(srv.port, "VIRTUAL0", mode=None)  # BCM is the mode after open
    bcm.send("< subscribe 0 0 123 >< echo >")
    check(bcm.element() == "< echo >", "echo in BCM mode")
    other = Raw(srv.port, "VIRTUAL0")
    other.send("< send 123 3 1 2 3 >< send 124 1 9 >")
    e = bcm.element()
    check(e is not None and re.fullmatch(r"< frame 123 \d+\.\d{6} 01 02 03  >", e), "BCM frame: %r" % e)
    check(bcm.element(0.3) is None, "BCM delivered an unsubscribed id")
    # content filter: only changes under the mask
    bcm.send("< unsubscribe 123 >< filter 0 0 123 1 F0 >")
    for d in ("10", "11", "12", "20"):
        other.send("< send 123 1 %s >" % d)
    frames = bcm.elements_for(0.5)
    check([f.split()[4] for f in frames] == ["10", "20"], "content filter: %r" % frames)
    # cyclic job on VIRTUAL0, seen by the raw client on VIRTUAL1 through the bus
    bcm.send("< add 0 10000 321 2 AA BB >")
    start = time.monotonic()
    frames = [f for f in raw.elements_for(0.5) if " 321 " in f]
    check(35 <= len(frames) <= 55, "10 ms job sent %d frames in 0.5 s" % len(frames))
    check(all(f.endswith(" AABB >") for f in frames), "job data: %r" % frames[:3])
    bcm.send("< update 321 1 CC >")
    time.sleep(0.1)
    frames = [f for f in raw.elements_for(0.2) if " 321 " in f]
    check(frames and frames[-1].endswith(" CC >"), "update: %r" % frames[-3:])
    bcm.send("< delete 321 >")
    time.sleep(0.05)
    raw.elements_for(0.05)
    check(not [f for f in raw.elements_for(0.3) if " 321 " in f], "delete did not stop the job")
    bcm.send("< delete 321 >")
    check(bcm.element() == "< error no cyclic job for that identifier >", "delete twice")
    bcm.send("< add 0 10 321 0 >")
    check("at least 1 ms" in (bcm.element() or ""), "10 us job refused")
    # control mode statistics, every 100 ms
    ctl = Raw(srv.port, "VIRTUAL0", mode="controlmode")
    ctl.send("< statistics 100 >")
    stats = [e for e in ctl.elements_for(0.55) if e.startswith("< stat ")]
    check(4 <= len(stats) <= 7, "statistics every 100 ms: %r" % stats)
    check(all(re.fullmatch(r"< stat \d+ \d+ \d+ \d+ >", s) for s in stats), "stat syntax %r" % stats)
    # configuration is the server's
    ctl.send("< VIRTUAL0 B 1000000 0 0 0 0 0 0 0 >")
    check("owns the bus configuration" in (ctl.element() or ""), "bit timing refused")
    for c in (raw, bcm, other, ctl):
        c.close()
    srv.stop()
    print("bcm: subscribe, filter, add/update/delete (%.0f ms), statistics, echo" %
          ((time.monotonic() - start) * 1000))


def case_mixed():
    """Two python-can clients and CANAL clients (CanalOpen("VIRTUAL0@127.0.0.1:PORT")
    through usb2can-cli monitor and send, each its own connection) on one served adapter."""
    import can
    srv = Server(["VIRTUAL0", "VIRTUAL1"])
    remote = "VIRTUAL0@127.0.0.1:%d" % srv.port
    mon = subprocess.Popen([CLI, "monitor", remote, "--count", "4", "--timeout", "5000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    a = pythoncan_bus(srv.port, "VIRTUAL0")
    b = pythoncan_bus(srv.port, "VIRTUAL0")
    time.sleep(0.3)  # the monitor is connected
    a.send(can.Message(arbitration_id=0x0A1, data=[1], is_extended_id=False))
    b.send(can.Message(arbitration_id=0x0B1, data=[2], is_extended_id=False))
    send = subprocess.run([CLI, "send", remote, "0C1#0303", "--count", "2"], capture_output=True,
                          text=True, timeout=30)
    check(send.returncode == 0, "CANAL send through the remote bus: " + send.stderr)
    out, err = mon.communicate(timeout=30)
    check(mon.returncode == 0, "CANAL monitor: %s %s" % (out, err))
    ids = re.findall(r"VIRTUAL0@\S+\s+(\w+)\s+\[", out)
    check(sorted(ids) == ["0A1", "0B1", "0C1", "0C1"], "CANAL monitor saw %s" % ids)
    got_a = [m.arbitration_id for m in recv_all(a, 3, 3)]
    got_b = [m.arbitration_id for m in recv_all(b, 3, 3)]
    check(sorted(got_a) == [0x0B1, 0x0C1, 0x0C1], "a saw %s" % got_a)
    check(sorted(got_b) == [0x0A1, 0x0C1, 0x0C1], "b saw %s" % got_b)
    a.shutdown()
    b.shutdown()
    srv.stop()
    print("mixed: 2 python-can clients and 2 CANAL connections on one adapter, each saw the "
          "others' frames and not its own")


def hostile_chunks(rng, total):
    """Random and hostile bytes: binary, over-long, half and interleaved commands."""
    sent = 0
    pieces = [
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 512))),
        lambda: b"<" + b"A" * rng.randint(200, 20000),
        lambda: b"< send 123 8 1 2 3",
        lambda: b"< open VIRTUAL0 >< rawmode >",
        lambda: b"< send " + os.urandom(rng.randint(1, 40)) + b" >",
        lambda: b"<<<<>>>> < > <\x00> <\xff\xfe>",
        lambda: b"< VIRTUAL0 B 10000 0 0 0 0 0 0 0 >< VIRTUAL0 C 1 1 1 >",
        lambda: b"< add 0 1000 7FF 8 FF FF FF FF FF FF FF FF >< filter 0 0 1 8 >",
        lambda: b"< send 1FFFFFFFF 0 >< send 123 9 >< statistics 99999999999999999999 >",
        lambda: b"< muxfilter 0 0 1 2 " + b"FF " * 16 + b">< isotpmode >< bcmmode >",
        lambda: ("< %s >" % " ".join("x" * rng.randint(0, 9) for _ in range(30))).encode(),
    ]
    while sent < total:
        chunk = rng.choice(pieces)()
        sent += len(chunk)
        yield chunk


def case_hostile():
    srv = Server(["VIRTUAL0", "VIRTUAL1"])
    rng = random.Random(23)
    sender = Raw(srv.port, "VIRTUAL0")
    watcher = Raw(srv.port, "VIRTUAL0")
    listener_other = Raw(srv.port, "VIRTUAL1")
    total = 10 * 1024 * 1024
    start = time.monotonic()
    hostile = [Raw(srv.port) for _ in range(4)]
    for h in hostile:
        h.s.settimeout(30)
    sent = 0
    frame_no = 0
    for chunk in hostile_chunks(rng, total):
        h = hostile[sent % len(hostile)]
        h.s.sendall(chunk)  # a peer that never reads: its replies pile up and are dropped
        sent += len(chunk)
        if sent // 65536 > frame_no and frame_no < 150:
            sender.send("< send 5A5 2 %02X %02X >" % (frame_no >> 8, frame_no & 255))
            frame_no += 1
        if rng.random() < 0.002:  # connect, say half a thing, go
            t = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            t.sendall(b"< open VIRT")
            t.close()
    # The server has taken every hostile byte once each peer's last echo comes back
    # (the peers start reading only now; echoes the full queue dropped are resent).
    replies = 0
    for h in hostile:
        deadline = time.monotonic() + 60
        h.s.setblocking(False)
        h.buf = ""
        last_echo = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - last_echo > 0.2:
                try:
                    h.s.send(b"< echo >")
                except BlockingIOError:
                    pass
                last_echo = time.monotonic()
            r, _, _ = select.select([h.s], [], [], 0.05)
            if r:
                data = h.s.recv(1 << 20)
                check(data, "server closed a hostile peer")
                h.buf += data.decode("latin-1")
                replies += h.buf.count("< error ")
                if "< echo >" in h.buf:
                    break
                h.buf = h.buf[-16:]
        else:
            fail("a hostile peer's input was not consumed within 60 s")
    elapsed = time.monotonic() - start
    check(elapsed < 90, "10 MB took too long")
    expected = ["%02X%02X" % (i >> 8, i & 255) for i in range(frame_no)]
    for name, client in (("watcher", watcher), ("VIRTUAL1 listener", listener_other)):
        got = []
        deadline = time.monotonic() + 10
        while len(got) < frame_no and time.monotonic() < deadline:
            e = client.element(1.0)
            if e and e.startswith("< frame 5A5 "):
                got.append(e.split()[4])
        check(got == expected, "%s saw %d of %d frames in order" % (name, len(got), frame_no))
    # hostile peers may send valid frames too: the echo comes among them
    watcher.send("< echo >")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and watcher.element(1.0) != "< echo >":
        pass
    check(time.monotonic() < deadline, "server no longer answers")
    # 40 connections at once: 32 are served, the rest told why and closed
    crowd = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(40)]
    for h in hostile:
        h.close()
    greetings = []
    for c in crowd:
        c.settimeout(5)
        greetings.append(c.recv(64))
        c.close()
    refused = sum(1 for g in greetings if g == b"< error too many clients >")
    check(refused == 40 - (32 - 3 - 4), "refused %d of 40 (hostile still counted: %r)" % (refused, greetings[:2]))
    for c in (sender, watcher, listener_other):
        c.close()
    srv.stop()
    print("hostile: %d bytes on 4 connections taken in %.1f s (%d error replies read), %d frames "
          "seen in order by 2 clients, %d of 40 extra connections refused"
          % (sent, elapsed, replies, frame_no, refused))


def case_allow():
    srv = Server(["VIRTUAL0", "--allow", "127.0.0.1/32"])
    ok = Raw(srv.port, source="127.0.0.1")
    check(ok.element() == "< hi >", "127.0.0.1 allowed")
    t0 = time.monotonic()
    bad = Raw(srv.port, source="127.0.0.2")
    check(bad.element(3.0) is None, "127.0.0.2 got something")
    check(time.monotonic() - t0 < 1.0, "refusal took %.3f s" % (time.monotonic() - t0))
    ok.close()
    bad.close()
    log = srv.stop()
    check("127.0.0.2" in log and "refused" in log, "refusal logged: " + log)
    # Without --listen the server listens on loopback only, on socketcand's port.
    for attempt in range(10):
        p = subprocess.Popen([CLI, "serve", "VIRTUAL0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline() + p.stdout.readline()
        if "listening on 127.0.0.1:29536" in line:
            break
        p.communicate(timeout=20)
        time.sleep(1)  # port 29536 busy: another test's server
    else:
        fail("no default listen line: " + line)
    try:
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(2)
        refused = False
        try:
            s.connect(("127.0.0.2", 29536))
        except (ConnectionRefusedError, socket.timeout):
            refused = True
        check(refused, "default server reachable on 127.0.0.2")
        s.close()
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=20)
    check(p.returncode == 0, "default server exit %d" % p.returncode)
    print("allow: 127.0.0.2 refused under --allow 127.0.0.1/32 within 1 s; default listens on "
          "127.0.0.1:29536 only")


def case_beacon():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("127.0.0.1", 42000))
    u.settimeout(5)
    srv = Server(["VIRTUAL0", "VIRTUAL1", "--name", "left", "--beacon"])
    data, _ = u.recvfrom(2048)
    text = data.decode()
    check(text.startswith('<CANBeacon name="usb2can" type="adapter"'), "beacon: " + text)
    check("<URL>can://127.0.0.1:%d</URL>" % srv.port in text, "beacon URL: " + text)
    check('<Bus name="left"/><Bus name="VIRTUAL1"/></CANBeacon>' in text, "beacon buses: " + text)
    import xml.dom.minidom
    xml.dom.minidom.parseString(text)  # well-formed
    u.close()
    srv.stop()
    print("beacon: " + text.replace("\n", " "))


def main():
    global CLI
    CLI = sys.argv[1]
    {"pythoncan": case_pythoncan, "bcm": case_bcm, "hostile": case_hostile, "mixed": case_mixed, "beacon": case_beacon,
     "allow": case_allow}[sys.argv[2]]()
    print("PASS")


if __name__ == "__main__":
    main()
