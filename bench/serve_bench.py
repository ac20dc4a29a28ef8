#!/usr/bin/python3
"""Throughput benchmark of `usb2can-cli serve` (docs/socketcand.md).

    bench/serve_bench.py CLI [--seconds 60] [--rate 7400]

One server serves VIRTUAL0 and VIRTUAL1 at 1 Mbit/s (one in-process bus).
A generator client on VIRTUAL1 sends 8-byte frames carrying a sequence number
at --rate frames/s (the bus is full at about 7,900 of them); on VIRTUAL0 three
raw-mode clients read everything and one of them also sends its own numbered
frames at 300/s (TX through the server), a fourth client reads nothing. Each
reader checks every sequence for loss and reordering and measures the added
latency: the server's timestamp (when CanalBlockingReceive returned it) to
arrival here. The server's CPU time per frame it received comes from
/proc/PID/stat. Prints a Markdown section for bench/RESULTS.md.
"""
import multiprocessing as mp
import os
import re
import select
import socket
import subprocess
import sys
import time

FRAME_RE = re.compile(r"< frame (\w+) (\d+)\.(\d{6}) (\w*) >")


def connect(port, bus):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    for cmd, want in ((None, "< hi >"), ("< open %s >" % bus, "< ok >"), ("< rawmode >", "< ok >")):
        if cmd:
            s.sendall(cmd.encode())
        got = s.recv(len(want)).decode()  # frames may follow the last "< ok >" at once
        assert got == want, (cmd, got)
    return s


def reader(index, port, seconds, tx_rate, out):
    s = connect(port, "VIRTUAL0")
    s.setblocking(False)
    last = {}
    lost = reordered = frames = 0
    lat = []
    buf = ""
    tx_seq = 0
    send_errors = 0
    start = time.monotonic()
    end = start + seconds
    next_tx = start
    while time.monotonic() < end + 1.0:
        now = time.monotonic()
        if tx_rate and now < end and now >= next_tx:
            burst = []
            while next_tx <= now:
                burst.append("< send 2AA 8 %s >" % " ".join(
                    "%02X" % b for b in tx_seq.to_bytes(8, "big")))
                tx_seq += 1
                next_tx += 1.0 / tx_rate
            s.sendall("".join(burst).encode())
        r, _, _ = select.select([s], [], [], 0.002)
        if not r:
            continue
        data = s.recv(1 << 16)
        if not data:
            break
        arrived = time.time()
        buf += data.decode("latin-1")
        cut = buf.rfind(">") + 1
        send_errors += buf.count("< error send failed", 0, cut)
        for m in FRAME_RE.finditer(buf, 0, cut):
            ident, secs, usecs, payload = m.groups()
            seq = int(payload, 16)
            frames += 1
            prev = last.get(ident)
            if prev is not None:
                if seq <= prev:
                    reordered += 1
                elif seq > prev + 1:
                    lost += seq - prev - 1
            last[ident] = seq if prev is None or seq > prev else prev
            if frames % 16 == 0:
                lat.append(arrived - (int(secs) + int(usecs) / 1e6))
        buf = buf[cut:]
    s.close()
    out.put({"index": index, "frames": frames, "lost": lost, "reordered": reordered, "lat": lat,
             "sent": tx_seq, "send_errors": send_errors})


def generator(port, seconds, rate, out):
    s = connect(port, "VIRTUAL1")
    s.setblocking(False)
    seq = 0
    errors = 0
    start = time.monotonic()
    pending = b""
    while time.monotonic() < start + seconds:
        due = int((time.monotonic() - start) * rate)
        burst = []
        while seq < due:
            burst.append("< send 155 8 %s >" % " ".join("%02X" % b for b in seq.to_bytes(8, "big")))
            seq += 1
        pending += "".join(burst).encode()
        if pending:
            try:
                n = s.send(pending)
                pending = pending[n:]
            except BlockingIOError:
                pass
        try:
            data = s.recv(1 << 16)
            errors += data.count(b"< error")
        except BlockingIOError:
            pass
        time.sleep(0.002)
    time.sleep(0.5)
    s.close()
    out.put({"generated": seq, "send_errors": errors})


def frame_bits(ident, data):
    """Exact length on the wire of a standard data frame: stuffed SOF..CRC, then
    CRC delimiter, ACK slot and delimiter, EOF and intermission (13 bits)."""
    bits = [0] + [(ident >> (10 - i)) & 1 for i in range(11)] + [0, 0, 0]
    bits += [(len(data) >> (3 - i)) & 1 for i in range(4)]
    for byte in data:
        bits += [(byte >> (7 - i)) & 1 for i in range(8)]
    crc = 0
    for b in bits:
        nxt = b ^ ((crc >> 14) & 1)
        crc = (crc << 1) & 0x7FFF
        if nxt:
            crc ^= 0x4599
    bits += [(crc >> (14 - i)) & 1 for i in range(15)]
    stuffed, run, last = 0, 0, None
    for b in bits:
        run = run + 1 if b == last else 1
        last = b
        if run == 5:
            stuffed += 1
            run, last = 1, 1 - b  # the stuff bit starts a new run
    return len(bits) + stuffed + 13


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def main():
    cli = sys.argv[1]
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60.0
    rate = float(sys.argv[sys.argv.index("--rate") + 1]) if "--rate" in sys.argv else 7400.0
    port = 29800 + os.getpid() % 100
    srv = subprocess.Popen([cli, "serve", "VIRTUAL0;1000", "VIRTUAL1;1000", "--listen",
                            "127.0.0.1:%d" % port], stdout=subprocess.PIPE, text=True)
    while "listening" not in srv.stdout.readline():
        pass
    baseline = "--baseline" in sys.argv  # the generator alone: what the bus and models cost
    stalled = connect(port, "VIRTUAL0")  # reads nothing until the end
    q = mp.Queue()
    readers = [mp.Process(target=reader, args=(i, port, seconds, 300 if i == 0 else 0, q))
               for i in range(0 if baseline else 3)]
    gen = mp.Process(target=generator, args=(port, seconds, rate, q))
    for p in readers:
        p.start()
    time.sleep(0.3)
    cpu0 = cpu_seconds(srv.pid)
    t0 = time.monotonic()
    gen.start()
    results = [q.get(timeout=seconds + 60) for _ in range(1 + len(readers))]
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(srv.pid) - cpu0
    for p in readers + [gen]:
        p.join()
    # the stalled client: what it still has, and the drop report it is owed
    stalled.settimeout(1)
    backlog = b""
    try:
        while True:
            d = stalled.recv(1 << 20)
            if not d:
                break
            backlog += d
    except socket.timeout:
        pass
    stalled.sendall(b"< echo >")
    time.sleep(0.3)
    try:
        backlog += stalled.recv(1 << 20)
    except socket.timeout:
        pass
    dropped = sum(int(n) for n in re.findall(rb"queue full: (\d+) frames dropped", backlog))
    kept = backlog.count(b"< frame ")
    srv.send_signal(2)
    srv.wait(timeout=20)
    gen_r = next(r for r in results if "generated" in r)
    rd = sorted((r for r in results if "frames" in r), key=lambda r: r["index"])
    if baseline:
        print("| baseline: the generator alone, no reader (%.1f s, %d frames) | server CPU %.2f s "
              "(%.1f %% of a core), %.1f us per frame |"
              % (elapsed, gen_r["generated"], cpu, 100 * cpu / elapsed,
                 1e6 * cpu / max(1, gen_r["generated"])))
        return
    total_bus = gen_r["generated"] + sum(r["sent"] for r in rd)
    lat = [x for r in rd for x in r["lat"]]
    wire_bits = sum(frame_bits(0x155, n.to_bytes(8, "big")) for n in range(gen_r["generated"]))
    wire_bits += sum(frame_bits(0x2AA, n.to_bytes(8, "big")) for n in range(rd[0]["sent"]))
    bits = wire_bits / max(1, total_bus)
    refused = gen_r["send_errors"] + sum(r["send_errors"] for r in rd)
    on_bus = total_bus - refused  # refused frames never reached the bus
    print("## socketcand server (`bench/serve_bench.py`)\n")
    print("Run `bench/serve_bench.py build/linux-release/usb2can-cli --seconds %g --rate %g` "
          "on %s.\n" % (seconds, rate, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("| measure | value |\n|---|---|")
    print("| run | %.1f s, bus 1 Mbit/s, %d frames generated on VIRTUAL1 (%.0f/s), %d sent by a "
          "VIRTUAL0 client (TX), %d generator sends refused by the adapter |"
          % (elapsed, gen_r["generated"], gen_r["generated"] / seconds, rd[0]["sent"] + rd[1]["sent"] + rd[2]["sent"], gen_r["send_errors"]))
    print("| bus load | %.1f %% of 1 Mbit/s: %d frames/s of %.1f bits on average (exact stuffing) |"
          % (100.0 * on_bus * bits / seconds / 1e6, on_bus / seconds, bits))
    for i, r in enumerate(rd):
        role = "reads and sends %d frames" % r["sent"] if r["sent"] else "reads"
        print("| client %d (%s) | %d frames received, %d missing from the sequences, %d reordered |"
              % (i + 1, role, r["frames"], r["lost"], r["reordered"]))
    print("| frames the adapters refused at CanalSend (queue full: never on the bus) | %d of the "
          "generator's, %d of client 1's (error replies counted) |"
          % (gen_r["send_errors"], rd[0]["send_errors"] if rd else 0))
    print("| client that stopped reading | %d frames kept in its socket buffers, %d dropped and reported "
          "to it (`< error queue full: N frames dropped >`) |" % (kept, dropped))
    print("| server CPU | %.2f s in %.1f s (%.1f %% of a core), %.1f us per frame received from the bus |"
          % (cpu, elapsed, 100 * cpu / elapsed, 1e6 * cpu / max(1, on_bus)))
    print("| added latency (server timestamp -> reader), %d samples | p50 %.0f us, p99 %.0f us |"
          % (len(lat), pct(lat, 50) * 1e6, pct(lat, 99) * 1e6))


if __name__ == "__main__":
    main()
