#!/usr/bin/python3
"""monitor --log checked by the real readers: 100,000 frames at full bus
(1 Mbit/s) recorded from two virtual adapters at once, as a can-utils log
and as Vector ASC, then read by python-can's can.LogReader / can.ASCReader
and converted by can-utils' log2asc and asc2log. Every frame must come back
(id, extended, remote, DLC, data) in order, with the same absolute times in
both files (each within 1 ms of host time: within 2 ms of each other), and the converters must round-trip the files.
A second, short recording checks error frames.

Usage: check_log_readers.py USB2CAN_CLI WORKDIR"""
import os
import subprocess
import sys
import time

import can

FRAMES = 100000
T0 = 1765151695.0


def source_frames():
    """A varied mix: standard and extended ids, remote requests, DLC 0..8."""
    for i in range(FRAMES):
        extended = i % 3 == 1
        remote = i % 7 == 3
        dlc = i % 9
        can_id = (i * 7919) % 0x20000000 if extended else (i * 37) % 0x800
        data = b"" if remote else bytes((i * 13 + k) & 0xFF for k in range(dlc))
        yield can_id, extended, remote, dlc, data


def write_source(path):
    with open(path, "w") as f:
        for i, (can_id, extended, remote, dlc, data) in enumerate(source_frames()):
            ident = "%08X" % can_id if extended else "%03X" % can_id
            payload = ("R%d" % dlc if dlc else "R") if remote else data.hex().upper()
            # all at once: replay sends them as fast as the bus takes them
            f.write("(%.6f) can0 %s#%s\n" % (T0, ident, payload))


def run(args, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def key(msg):
    return (msg.arbitration_id, msg.is_extended_id, msg.is_remote_frame, msg.dlc,
            b"" if msg.is_remote_frame else bytes(msg.data))


def text_times(path):
    """The times of a can-utils log as written. asc2log 2020.11 can write a
    microsecond field of 1000000 without carrying it ("(…20.1000000)"),
    which python-can then reads as .1 s: read the digits as microseconds,
    as asc2log meant them."""
    times = []
    for line in open(path):
        stamp = line.split(")")[0].lstrip("(")
        seconds, micros = stamp.split(".")
        times.append(int(seconds) + int(micros) / 1e6)
    return times


def compare(name, messages, expected):
    if len(messages) != len(expected):
        fail("%s: %d frames read back, %d sent" % (name, len(messages), len(expected)))
    for i, (m, e) in enumerate(zip(messages, expected)):
        if key(m) != e:
            fail("%s: frame %d is %r, sent %r" % (name, i + 1, key(m), e))
    print("%s: all %d frames read back in order (id, extended, remote, dlc, data)"
          % (name, len(messages)))


def main():
    cli, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    for f in ("source.log", "rec.log", "rec.asc"):
        if os.path.exists(f):
            os.remove(f)
    write_source("source.log")
    expected = list(source_frames())

    wall_before = time.time()
    status, out, err = run([cli, "monitor", "VIRTUAL1;1000", "--count", str(FRAMES), "--timeout",
                            "10000", "--log", "rec.log", "+", "monitor", "VIRTUAL2;1000", "--count",
                            str(FRAMES), "--timeout", "10000", "--log", "rec.asc", "--format", "asc",
                            "+", "replay", "source.log", "VIRTUAL0;1000"])
    wall_after = time.time()
    print(out + err)
    if status != 0:
        fail("usb2can-cli exit status %d" % status)
    for name in ("rec.log", "rec.asc"):
        line = "recording %s: %d frames, 0 error frames" % (name, FRAMES)
        if line not in err or ", 0 dropped," not in err:
            fail("no final status line '%s ... 0 dropped' on stderr" % line)

    log = list(can.LogReader("rec.log"))
    compare("can.LogReader(rec.log)", log, expected)
    asc = list(can.LogReader("rec.asc"))
    compare("can.LogReader(rec.asc)", asc, expected)
    absolute = list(can.ASCReader("rec.asc", relative_timestamp=False))
    compare("can.ASCReader(rec.asc, relative_timestamp=False)", absolute, expected)
    # Absolute times: inside the run, never decreasing, the two files agree.
    worst = 0.0
    previous = 0.0
    for a, b in zip(log, absolute):
        if not (wall_before <= a.timestamp <= wall_after):
            fail("time %.6f outside the run (%.6f .. %.6f)" % (a.timestamp, wall_before, wall_after))
        if a.timestamp < previous:
            fail("time goes backwards at %.6f" % a.timestamp)
        previous = a.timestamp
        worst = max(worst, abs(a.timestamp - b.timestamp))
    # each within 1 ms of host time, so within 2 ms of each other
    if worst >= 0.002:
        fail("the .log and .asc times differ by up to %.6f s" % worst)
    print("absolute times: within the run, increasing; .log vs .asc differ by at most %.0f us"
          % (worst * 1e6))

    # can-utils: log2asc and asc2log accept the files and round-trip them.
    status, _, err = run(["log2asc", "-I", "rec.log", "-O", "conv.asc", "VIRTUAL1"])
    if status != 0:
        fail("log2asc: %d %s" % (status, err))
    status, _, err = run(["asc2log", "-I", "conv.asc", "-O", "back.log"])
    if status != 0:
        fail("asc2log conv.asc: %d %s" % (status, err))
    back = list(can.LogReader("back.log"))
    compare("log2asc | asc2log (rec.log)", back, expected)
    back_times = text_times("back.log")
    drift = max(abs((b - back_times[0]) - (a.timestamp - log[0].timestamp))
                for a, b in zip(log, back_times))
    if drift > 2e-6:
        fail("log2asc | asc2log changed relative times by %.6f s" % drift)
    print("log2asc | asc2log: relative times kept (within %.0f us)" % (drift * 1e6))
    status, _, err = run(["asc2log", "-I", "rec.asc", "-O", "fromasc.log"])
    if status != 0:
        fail("asc2log rec.asc: %d %s" % (status, err))
    fromasc = list(can.LogReader("fromasc.log"))
    compare("asc2log (rec.asc)", fromasc, expected)
    fromasc_times = text_times("fromasc.log")
    drift = max(abs((b - fromasc_times[0]) - (a.timestamp - absolute[0].timestamp))
                for a, b in zip(absolute, fromasc_times))
    if drift > 2e-6:
        fail("asc2log changed relative times by %.6f s" % drift)
    status, _, err = run(["log2asc", "-I", "fromasc.log", "-O", "again.asc", "can0"])
    if status != 0:
        fail("log2asc fromasc.log: %d %s" % (status, err))
    compare("asc2log | log2asc (rec.asc)", list(can.LogReader("again.asc")), expected)

    # Error frames: a silent monitor sees a sender's unacknowledged retries
    # and reports form errors; written as usb_8dev reports them.
    status, out, err = run([cli, "monitor", "VIRTUAL1", "--flags", "9", "--timeout", "500",
                            "--log", "err.log", "+", "send", "VIRTUAL0", "123#11"])
    lines = open("err.log").read().splitlines()
    errors = [l for l in lines if l.split()[2].startswith("2000")]
    if not errors:
        fail("no error frame in err.log:\n" + "\n".join(lines[:5]))
    bus_errors = [l for l in errors if int(l.split()[2][:8], 16) & 0x80]
    read = [m for m in can.LogReader("err.log") if m.is_error_frame]
    if len(read) != len(bus_errors) or not bus_errors:
        fail("python-can read %d error frames, the file has %d bus errors" % (len(read), len(bus_errors)))
    status, _, err = run(["log2asc", "-I", "err.log", "-O", "err.asc", "VIRTUAL1"])
    asc_errors = [l for l in open("err.asc") if "ErrorFrame" in l]
    if status != 0 or len(asc_errors) != len(errors):
        fail("log2asc made %d ErrorFrame lines of %d error frames" % (len(asc_errors), len(errors)))
    print("error frames: %d written (e.g. %s), python-can reads the %d bus errors as error "
          "frames, log2asc writes %d ErrorFrame lines" % (len(errors), errors[0].split()[2],
                                                          len(read), len(asc_errors)))
    print("PASS")


if __name__ == "__main__":
    main()
