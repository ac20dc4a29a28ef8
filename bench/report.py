#!/usr/bin/env python3
"""Writes bench/RESULTS.md (to stdout) from the key=value output that
bench/run.sh collected in build/bench/ (results.txt, cli.txt, callgrind
annotations). Every figure comes from that output; nothing is typed in."""
import os
import re
import sys

BUS_LIMIT_STD0 = 21277  # 1 Mbit/s, standard id, 0 data bytes, no stuff bits
BUS_LIMIT_STD8 = 9009  # ... 8 data bytes
TARGET_PATH_FPS = 1_000_000
TARGET_HOST_CPU_PCT = 1.0
TARGET_P99_US = 100.0

out_dir = sys.argv[1]
r = {}
with open(os.path.join(out_dir, "results.txt")) as f:
    for line in f:
        line = line.rstrip("\n")
        if "=" in line:
            k, v = line.split("=", 1)
            r[k] = v


def g(key, default="n/a"):
    return r.get(key, default)


def num(key, default=0.0):
    try:
        return float(r[key])
    except (KeyError, ValueError):
        return default


def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


def cmd(section):
    return f"`{g('cmd.' + section)}`"


def status(section):
    rc = g("rc." + section)
    return "" if rc == "0" else f" (exit status {rc})"


lines = []
w = lines.append

w("# Benchmark results")
w("")
w(f"Written by `bench/run.sh` on {g('meta.date')} at commit {g('meta.commit')}; "
  f"the suite took {g('meta.suite_seconds')} s. Commands run in `build/linux-release` "
  "(preset `linux-release`: Release, -O3, no sanitizers).")
w("")
w("| machine | |")
w("|---|---|")
w(f"| CPU | {g('meta.cpu')} ({g('meta.mhz')} MHz), {g('meta.cores')} cores (a virtual machine) |")
w(f"| kernel | {g('meta.kernel')} |")
w(f"| compiler | {g('meta.compiler')} |")
w(f"| load average (1/5/15 min) | {g('meta.load_start')} at the start, {g('meta.load_end')} at the end |")
w("")
def load1(key):
    try:
        return float(g(key).split()[0])
    except (ValueError, IndexError):
        return 0.0


busy = max(load1("meta.load_start"), load1("meta.load_end")) > 1.5
w(("The machine is shared: other builds and Wine test runs were active during the run "
   if busy else
   "The machine is shared with other work, which was mostly idle during this run ")
  + "(see the load averages; each section below names the load when it started). "
  "Wall-clock figures and latency tails suffer from load; CPU-time figures much less.")
w("")

# --- summary ---------------------------------------------------------------------
rx_cpu_fps = num("path.rx.frames_per_cpu_s")
tx_cpu_fps = num("path.tx.frames_per_cpu_s")
rx_wall = num("path.rx.frames_per_s_median")
tx_wall = num("path.tx.frames_per_s_median")
soaks = sorted({k.split(".")[1] for k in r if k.startswith("soak.") and k.endswith(".profile")})
paced = [s for s in soaks if not s.startswith("usb-")]
usb = [s for s in soaks if s.startswith("usb-")]


def soak_clean(s):
    keys = ["rx_lost", "tx_lost", "rx_reordered", "tx_reordered", "corrupt", "error_frames"]
    return all(num(f"soak.{s}.{k}", 1) == 0 for k in keys)


head = "std0-minstuff" if "std0-minstuff" in paced else (paced[0] if paced else None)
idle_cpu = num("idle.thread_cpu_us", -1)

TICKS = [t for t in (100, 1000) if f"wake.t{t}.count" in r]


def floor_min(period_us, field):
    vals = [num(f"floor.{period_us}us.{m}.{field}", -1) for m in ("default", "fifo")]
    vals = [v for v in vals if v >= 0]
    return min(vals) if vals else -1


floor_pct_100 = floor_min(100, "cpu_pct_min")


def latency_verdict(t):
    p = num(f"wake.t{t}.p99_us", -1)
    bare = num(f"bare.t{t}.p99_us", -1)
    if 0 <= p < TARGET_P99_US:
        return "met"
    if bare >= TARGET_P99_US:
        return (f"MISSED; not reachable here: the same hand-off without the driver has p99 "
                f"{bare:.1f} us on this machine")
    return "MISSED"


w("## Summary")
w("")
w("| target | measured | vs. bus limit | verdict |")
w("|---|---|---|---|")
w(f"| RX path >= 1,000,000 frames/s on one core | {fmt(rx_cpu_fps)} frames per CPU-second "
  f"({fmt(rx_wall)} frames/s wall-clock, median) | {rx_cpu_fps / BUS_LIMIT_STD0:,.0f} x 21,277 | "
  f"{'met' if min(rx_cpu_fps, rx_wall) >= TARGET_PATH_FPS else 'MISSED'} |")
w(f"| TX path >= 1,000,000 frames/s on one core | {fmt(tx_cpu_fps)} frames per CPU-second "
  f"({fmt(tx_wall)} frames/s wall-clock, median) | {tx_cpu_fps / BUS_LIMIT_STD0:,.0f} x 21,277 | "
  f"{'met' if min(tx_cpu_fps, tx_wall) >= TARGET_PATH_FPS else 'MISSED'} |")
for s in paced:
    lost = num(f"soak.{s}.rx_lost") + num(f"soak.{s}.tx_lost")
    reord = num(f"soak.{s}.rx_reordered") + num(f"soak.{s}.tx_reordered")
    load = num(f"soak.{s}.bus_load_pct")
    fps = num(f"soak.{s}.frames_per_s")
    lim = num(f"soak.{s}.bus_limit_fps")
    verdict = "met" if soak_clean(s) and load >= 99.0 else "MISSED"
    w(f"| zero loss and reordering, 100 % load, RX+TX, {g('soak.' + s + '.seconds')} s ({s}) | "
      f"{fmt(lost)} lost, {fmt(reord)} reordered of {fmt(num(f'soak.{s}.rx_frames') + num(f'soak.{s}.tx_frames'))}; "
      f"bus load {load:.2f} % | {fmt(fps)} of {fmt(lim)} frames/s ({100 * fps / lim if lim else 0:.1f} %) | {verdict} |")
def host_verdict(scaled):
    if scaled < TARGET_HOST_CPU_PCT:
        return "met"
    text = f"MISSED ({scaled / TARGET_HOST_CPU_PCT:.0f} x the target)"
    if floor_pct_100 > TARGET_HOST_CPU_PCT:
        text += (f"; not reachable here: waking one thread every 100 us, with no driver, "
                 f"costs {floor_pct_100:.1f} % of a core on this machine")
    return text


if head:
    host = num(f"soak.{head}.host_cpu_pct")
    fps = num(f"soak.{head}.frames_per_s")
    scaled = num(f"soak.{head}.host_ns_per_frame") * BUS_LIMIT_STD0 / 1e7
    w(f"| host CPU < 1 % of one core at 21,277 frames/s | {host:.2f} % at {fmt(fps)} frames/s "
      f"({scaled:.1f} % scaled to 21,277); simulated device {num(f'soak.{head}.device_cpu_pct'):.1f} % on top | "
      f"{fps / BUS_LIMIT_STD0 * 100:.0f} % of 21,277 | "
      f"{host_verdict(scaled)} |")
for t in TICKS:
    grid = "a busy bus" if t <= 100 else "sparse traffic"
    w(f"| p99 wake latency < 100 us (Linux), packets every {t} us ({grid}) | p99 "
      f"{num(f'wake.t{t}.p99_us'):.1f} us (p50 {num(f'wake.t{t}.p50_us'):.1f} us) over "
      f"{fmt(num(f'wake.t{t}.count'))} wakes; without the driver p99 {num(f'bare.t{t}.p99_us'):.1f} us "
      f"(p50 {num(f'bare.t{t}.p50_us'):.1f} us) | - | {latency_verdict(t)} |")
w(f"| idle: a thread blocked 10 s in CanalBlockingReceive uses ~0 CPU | {idle_cpu:.0f} us of CPU in "
  f"{num('idle.seconds'):.1f} s ({num('idle.thread_cpu_pct'):.5f} %), {g('idle.thread_switches')} context switch(es) | - | "
  f"{'met' if 0 <= idle_cpu < 1000 else 'MISSED'} |")
w("")
w("The bus limits: 21,277 frames/s is 10^6 / 47 bits, a standard frame with 0 data bytes and "
  "no stuff bits; 9,009 frames/s the same with 8 data bytes (docs/protocol.md, frame lengths). A real "
  "0-byte data frame always carries at least one stuff bit (RTR, IDE, r0 and DLC 0000 are seven "
  "dominant bits in a row), so the fastest frames that exist take 48 bits: 20,833 frames/s. The "
  "soak's profiles use real frames; their limit is computed from the exact bits the paced bus "
  "put on the wire.")
w("")

# --- paths -------------------------------------------------------------------------------
w("## Path throughput (one core, in-process bench link)")
w("")
w("RX: IN packets of 3 records -> decode -> RX ring -> `CanalReceive`. TX: `CanalSend` -> "
  "TX queue -> `kick_out` -> OUT record counted by the link. Both through the exported CANAL "
  "functions with handle checks; every frame carries a sequence number that the far end checks.")
w("")
w("| path | frames/s wall (best / median / worst of 5) | frames per CPU-second | CPU ns/frame | "
  "instructions/frame (callgrind) | x 21,277 | bad frames | command |")
w("|---|---|---|---|---|---|---|---|")
for d in ("rx", "tx"):
    w(f"| {d.upper()} | {fmt(num(f'path.{d}.frames_per_s_best'))} / {fmt(num(f'path.{d}.frames_per_s_median'))} / "
      f"{fmt(num(f'path.{d}.frames_per_s_worst'))} | {fmt(num(f'path.{d}.frames_per_cpu_s'))} | "
      f"{num(f'path.{d}.cpu_ns_per_frame'):.1f} | {g(f'callgrind.{d}.ir_per_frame')} | "
      f"{num(f'path.{d}.frames_per_cpu_s') / BUS_LIMIT_STD0:,.0f} | {g(f'path.{d}.bad_frames')} | "
      f"{cmd('paths_' + d)}{status('paths_' + d)} |")
w("")
w("Frames per CPU-second divide the frames by the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), "
  "so time the scheduler gave to other programs on this shared machine does not count; the "
  "wall-clock column includes it.")
w("")

# --- instructions --------------------------------------------------------------------------
w("## Instructions per frame (callgrind)")
w("")
w("`valgrind --tool=callgrind` counts the instructions of `bench_paths DIR 210000 1` and of a "
  "baseline `bench_paths DIR 10000 1`; the difference divided by 200,000 frames is the cost "
  "of one frame, the benchmark's own loop (sequence numbers, checks) included.")
w("")
w("| path | Ir baseline (10,000 frames) | Ir (210,000 frames) | Ir per frame |")
w("|---|---|---|---|")
for d in ("rx", "tx"):
    w(f"| {d.upper()} | {fmt(num(f'callgrind.{d}.ir_baseline'))} | {fmt(num(f'callgrind.{d}.ir_total'))} | "
      f"**{g(f'callgrind.{d}.ir_per_frame')}** |")
w("")
for d in ("rx", "tx"):
    path = os.path.join(out_dir, f"callgrind.{d}.annotate")
    if not os.path.exists(path):
        continue
    rows = []
    with open(path) as f:
        text = f.read()
    part = text.split("file:function", 1)[-1]
    for m in re.finditer(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+)", part, re.M):
        fn = m.group(3).split(":")[-1]
        rows.append((m.group(1), m.group(2), fn))
        if len(rows) == 8:
            break
    if rows:
        w(f"Where the {d.upper()} run spends its instructions (self cost, whole run):")
        w("")
        w("| Ir | share | function |")
        w("|---|---|---|")
        for ir, pct, fn in rows:
            w(f"| {ir} | {pct} % | `{fn}` |")
        w("")

# --- soak -----------------------------------------------------------------------------------
def soak_table(names, title, sections):
    w(title)
    w("")
    w("| profile | seconds | frames/s (RX + TX) | bus limit | of limit | bus load | lost RX/TX | "
      "reordered RX/TX | corrupt | device overruns | host CPU | host ns/frame | simulated side CPU | "
      "IN packets with 1/2/3 records |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in names:
        fps = num(f"soak.{s}.frames_per_s")
        lim = num(f"soak.{s}.bus_limit_fps")
        w(f"| {g(f'soak.{s}.profile')} | {g(f'soak.{s}.seconds')} | {fmt(fps)} ({fmt(num(f'soak.{s}.rx_frames_per_s'))} + "
          f"{fmt(num(f'soak.{s}.tx_frames_per_s'))}) | {fmt(lim)} ({g(f'soak.{s}.mean_bits')} bits, stuff "
          f"{g(f'soak.{s}.stuff_bits_range')}) | {100 * fps / lim if lim else 0:.1f} % | "
          f"{num(f'soak.{s}.bus_load_pct'):.2f} % | {g(f'soak.{s}.rx_lost')}/{g(f'soak.{s}.tx_lost')} | "
          f"{g(f'soak.{s}.rx_reordered')}/{g(f'soak.{s}.tx_reordered')} | {g(f'soak.{s}.corrupt')} | "
          f"{g(f'soak.{s}.device_overruns')} | {num(f'soak.{s}.host_cpu_pct'):.2f} % | "
          f"{fmt(num(f'soak.{s}.host_ns_per_frame'))} | {num(f'soak.{s}.device_cpu_pct'):.2f} % | "
          f"{g(f'soak.{s}.in_records_1_2_3')} |")
    w("")
    for s in names:
        if f"soak.{s}.in_delivery_max_us" in r:
            w(f"- `{s}`: longest wait of a completed IN transfer for the host event thread "
              f"{fmt(num(f'soak.{s}.in_delivery_max_us'))} us; {g(f'soak.{s}.in_delivery_over_1ms')} "
              f"transfers waited over 1 ms; simulated device thread: {g(f'soak.{s}.device_thread')}")
    for sec in sections:
        w(f"- {cmd(sec)}{status(sec)} (load average at start: {g('load.' + sec)})")
    w("")
    for s in names:
        threads = sorted(k for k in r if k.startswith(f"soak.{s}.thread."))
        if not threads:
            continue
        w(f"Threads during `{s}` (CPU as % of one core; wakes = voluntary context switches per bus frame):")
        w("")
        w("| role | thread | CPU and wakes |")
        w("|---|---|---|")
        for k in threads:
            _, _, _, role, name, tid = k.split(".", 5)
            w(f"| {role} | {name} ({tid}) | {r[k]} |")
        w("")
    for s in names:
        what = g(f"soak.{s}.profile_what")
        w(f"- `{g(f'soak.{s}.profile')}`: {what}")
    w("")


if paced:
    w("## Full-bus soak, adapter model in-process")
    w("")
    w("A paced virtual bus (sim/vbus.h, VBUS_PACED) at 1 Mbit/s carries the adapter under "
      "test (device model, sim/u8d_model.h) and a peer node. A device thread runs the bus in "
      "real time, every frame at its exact bit time (stuff bits computed from the bit stream), "
      "and hands each IN packet over when its frame ends, as the firmware does. A host event "
      "thread plays libusb's: 16 IN and 8 OUT transfers in flight, as winusb/link_libusb.c. "
      "The CANAL client has one thread in `CanalBlockingSend` (TX stream) and one in "
      "`CanalBlockingReceive` (RX stream). The peer always wins arbitration and offers a frame "
      "only after each host frame, so the directions alternate and the bus is 100 % busy exactly "
      "when the host keeps up. Lost = gaps in the sequence plus frames sent but never received; "
      "reordered = a frame from before the expected one.")
    w("")
    w("Host CPU = process CPU (CLOCK_PROCESS_CPUTIME_ID) minus the device thread's "
      "(CLOCK_THREAD_CPUTIME_ID), over the measured window; it includes the host event thread.")
    w("")
    soak_table(paced, "### Results", ["soak_long", "soak_short"])

if usb:
    w("## Full-bus soak end to end: libusb + umockdev")
    w("")
    w("The same device and client, but the host side is the product's libusb link "
      "(winusb/link_libusb.c) and real libusb-1.0, with usbfs emulated in user space by "
      "umockdev (tests/support/usbfs_mock.c, the usb tests' harness). Every URB submit and reap is "
      "an ioctl that umockdev's preload library forwards over a socket to its worker thread in "
      "this process; the worker answers from the device model. \"Simulated side\" is the device "
      "thread plus umockdev's threads (kernel emulation). Threads started by libusb and by the "
      "libusb link carry the program's name (`bench_soak_usb`); the busiest host thread is the "
      "link's event thread.")
    w("")
    soak_table(usb, "### Results", ["soak_usb"])

# --- latency -----------------------------------------------------------------------------------
w("## Wake latency: IN completion -> CanalBlockingReceive returns")
w("")
w("A thread blocks in `CanalBlockingReceive`. An injecting thread hands it a one-record IN "
  "packet exactly as a link's IN completion does (`sink->in_packet`), on a fixed grid of "
  "ticks on the monotonic clock, as bus frames complete IN transfers, sleeping in between as "
  "a USB event thread sleeps between completions; it takes the time just before the hand-off "
  "and skips a tick if the receiver is not back in its wait yet. The receiver takes the time "
  "when the call returns. In alternating blocks of 5 % of the wakes, the same two threads do "
  "the same hand-off without the driver (a flag under a mutex and condition variable of "
  "platform/osal.h, signalled after unlocking, as the channel does): the difference between "
  "the two rows is what the driver adds; the bare row is what this machine's kernel takes. "
  "(An earlier version had the injecting thread poll for the receiver with 10 us sleeps; on "
  "this virtual machine those extra timer wake-ups delayed the receiver's wake-up as well, to "
  "a p99 of about 390 us with the driver and 330-410 us without it.)")
w("")
w("| grid | path | wakes | p50 | p90 | p99 | p99.9 | max | min | receiver CPU per wake | command |")
w("|---|---|---|---|---|---|---|---|---|---|---|")
for t in TICKS:
    sec = "wake" if t == 100 else "wake_sparse"
    for key, label in (("wake", "driver"), ("bare", "no driver (kernel only)")):
        k = f"{key}.t{t}"
        p99v = f"**{num(k + '.p99_us'):.1f} us**" if key == "wake" else f"{num(k + '.p99_us'):.1f} us"
        w(f"| {t} us | {label} | {fmt(num(k + '.count'))} | {num(k + '.p50_us'):.1f} us | "
          f"{num(k + '.p90_us'):.1f} us | {p99v} | {num(k + '.p999_us'):.1f} us | "
          f"{num(k + '.max_us'):.1f} us | {num(k + '.min_us'):.1f} us | "
          f"{num(k + '.receiver_cpu_us_per_wake'):.1f} us | {cmd(sec)}{status(sec)} |")
w("")
w(f"Load average when the runs started: {g('load.wake')} (100 us grid), "
  f"{g('load.wake_sparse')} (1 ms grid).")
w("")

# --- floor ------------------------------------------------------------------------------------
if "floor.reps" in r:
    w("## The floor of this machine: what waking a thread costs, with no driver")
    w("")
    w("`bench_wake_floor`: a pacer thread ticks on the monotonic clock every 1000 us (one wake "
      "per USB frame), 100 us (the slowest pace at which a blocked receiver still gets every "
      "frame within 100 us) or 47 us (one wake per frame at 21,277 frames/s) and hands a token "
      "to a thread blocked on a mutex and condition variable (platform/osal.h); that thread does "
      "nothing else. The pacer runs under SCHED_FIFO as the soak's simulated device does, and "
      f"again under default scheduling; {g('floor.reps')} runs of {g('floor.seconds')} s each. "
      "CPU is the waiting thread's own (CLOCK_THREAD_CPUTIME_ID), so the cost of signalling is "
      "not even counted.")
    w("")
    w("| period | wakes/s | pacer | woken (share of ticks) | CPU per wake, best / median run | "
      "% of one core, best / median run | latency p50 / p99 / max |")
    w("|---|---|---|---|---|---|---|")
    for period in (1000, 100, 47):
        for mode in ("fifo", "default"):
            k = f"floor.{period}us.{mode}"
            if k + ".wakes_per_s" not in r:
                continue
            w(f"| {period} us | {fmt(num(k + '.wakes_per_s'))} | {mode} "
              f"({'SCHED_FIFO' if g(k + '.pacer_realtime') == 'yes' else 'default scheduling'}) | "
              f"{100 * num(k + '.woken_share'):.1f} % | {num(k + '.cpu_us_per_wake_min'):.2f} / "
              f"{num(k + '.cpu_us_per_wake_median'):.2f} us | **{num(k + '.cpu_pct_min'):.2f}** / "
              f"{num(k + '.cpu_pct_median'):.2f} % | {num(k + '.latency_p50_us'):.1f} / "
              f"{num(k + '.latency_p99_us'):.1f} / {num(k + '.latency_max_us'):.1f} us |")
    w("")
    w(f"Command: {cmd('floor')}{status('floor')} (load average at start: {g('load.floor')}).")
    w("")
    budget_us = TARGET_HOST_CPU_PCT / 100 * 1e6 / 10000
    w(f"Why this bounds the host-CPU target: while frames stream at 21,277 frames/s (one every "
      f"47 us), a driver that hands every frame to a blocked `CanalBlockingReceive` within "
      f"100 us must wake some thread at least every 100 us, 10,000 times a second, whatever it "
      f"batches (a frame that completes right after a wake must not wait for more than 100 us); "
      f"the only alternative is a thread that never sleeps, 100 % of a core. The 1 % budget "
      f"allows {budget_us:.1f} us of CPU per such wake-up for everything: the wake itself, USB "
      f"completion handling, decoding, the CANAL call. On this machine the wake-up alone costs "
      f"at least {floor_min(100, 'cpu_us_per_wake_min'):.2f} us "
      f"({floor_pct_100:.2f} % of a core at 10,000 wakes/s, the cheapest run of either "
      "scheduling): no driver can meet both the latency and the CPU target here. Even giving "
      f"up 10 x of the latency target, one wake per millisecond costs "
      f"{floor_min(1000, 'cpu_pct_min'):.2f} % for the waiting thread alone.")
    w("")

# --- idle -------------------------------------------------------------------------------------
w("## Idle")
w("")
w(f"One thread in `CanalBlockingReceive(h, &msg, 10000)` with nothing arriving ({cmd('wake')}, "
  "after the latency run):")
w("")
w("| result | wall time | thread CPU | process CPU | context switches of the thread |")
w("|---|---|---|---|---|")
w(f"| {g('idle.result')} | {num('idle.seconds'):.3f} s | {num('idle.thread_cpu_us'):.1f} us | "
  f"{num('idle.process_cpu_us'):.1f} us | {g('idle.thread_switches')} |")
w("")
w("The wait is one condition-variable wait with an absolute deadline on the monotonic clock: "
  "the thread sleeps once and wakes once, at the deadline.")
w("")

# --- cli --------------------------------------------------------------------------------------
cli = os.path.join(out_dir, "cli.txt")
if os.path.exists(cli):
    w("## usb2can-cli bench")
    w("")
    w(f"{cmd('cli')}{status('cli')}: two virtual adapters on the in-process bus (paced at real "
      "bit times, so the bus bounds the throughput), public CANAL API only:")
    w("")
    w("```")
    with open(cli) as f:
        w(f.read().rstrip())
    w("```")
    w("")

# --- misses ----------------------------------------------------------------------------------------
w("## Where targets are missed, and why")
w("")
missed = False
if head:
    host = num(f"soak.{head}.host_cpu_pct")
    fps = num(f"soak.{head}.frames_per_s")
    ns = num(f"soak.{head}.host_ns_per_frame")
    scaled = ns * BUS_LIMIT_STD0 / 1e7
    ir = (num("callgrind.rx.ir_per_frame") + num("callgrind.tx.ir_per_frame")) / 2
    cpu_ns = (num("path.rx.cpu_ns_per_frame") + num("path.tx.cpu_ns_per_frame")) / 2
    wakes = user = sys_t = 0.0
    for k, v in r.items():
        if k.startswith(f"soak.{head}.thread.host."):
            m = re.match(r"user ([\d.]+) % sys ([\d.]+) % wakes/frame ([\d.]+)", v)
            if m:
                user += float(m.group(1))
                sys_t += float(m.group(2))
                wakes += float(m.group(3))
    sys_share = 100 * sys_t / (user + sys_t) if user + sys_t else 0
    wake_cost_47 = floor_min(47, "cpu_us_per_wake_min")
    bare_equiv = wakes * fps * wake_cost_47 / 1e4 if wake_cost_47 > 0 else 0
    if scaled >= TARGET_HOST_CPU_PCT:
        missed = True
        w(f"**Host CPU at a full bus: {host:.1f} % of one core at {fmt(fps)} frames/s "
          f"({ns:,.0f} ns per frame), {scaled:.0f} x the 1 % target; the target is below this "
          f"machine's floor.** The driver's own code is not where it goes: a frame costs about "
          f"{ir:,.0f} instructions and {cpu_ns:.0f} ns of CPU on the RX or TX path (sections "
          f"above), {cpu_ns * BUS_LIMIT_STD0 / 1e7:.2f} % of a core at 21,277 frames/s. The rest "
          "is threads waking: at 1 Mbit/s a frame ends every ~48-135 us, the adapter sends each "
          "received frame in its own IN packet as soon as it arrives (the 1/2/3-record column: "
          "almost all packets carry one record), each packet completes a USB transfer that "
          "wakes the host's USB event thread, which wakes the thread blocked in "
          "`CanalBlockingReceive`; sent frames free TX queue slots, which wake the thread "
          "blocked in `CanalBlockingSend`. "
          f"The host threads woke {wakes:.2f} times per bus frame in all and {sys_share:.0f} % "
          f"of their CPU was kernel time. At the floor's cheapest cost of a wake at this pace "
          f"({wake_cost_47:.2f} us per wake with a wake every 47 us, no driver, waiting thread "
          f"only), that many wake-ups alone come to {bare_equiv:.1f} % of a core: the measured "
          f"{host:.1f} % is {host / bare_equiv if bare_equiv else 0:.1f} x what the wake-ups "
          + ("cost bare: the driver's host cost is what its wake-ups cost on this machine. "
             if bare_equiv and host / bare_equiv < 1.15 else
             "cost bare; the rest is the waker's side of each wake (the futex wake that the "
             "floor does not count) and USB event handling. ")
          + "The least any design needs, one wake "
          f"per 100 us to keep the 100 us latency, costs {floor_pct_100:.2f} % here (floor "
          "section): the 1 % target cannot be met on this machine. What the driver does to "
          "stay near the floor: receivers and senders are signalled after the channel's lock "
          "is released (a thread woken under the lock only blocks again on it), and a thread "
          "blocked in `CanalBlockingSend` is woken when 64 queue slots are free rather than for "
          "every frame that leaves.")
        w("")
for s in paced:
    if not soak_clean(s) or num(f"soak.{s}.bus_load_pct") < 99.0:
        missed = True
        w(f"**Soak `{s}`: {g(f'soak.{s}.rx_lost')} RX and {g(f'soak.{s}.tx_lost')} TX frames lost, "
          f"bus load {num(f'soak.{s}.bus_load_pct'):.2f} %.** Device overruns: "
          f"{g(f'soak.{s}.device_overruns')}, host RX ring overruns: {g(f'soak.{s}.ring_overruns')}. "
          "A device overrun means the adapter's 63-frame RX list filled up: the host had not "
          "read IN packets for longer than the 16 transfers in flight plus that list cover "
          f"(about {(16 + 63) / max(num(f'soak.{s}.rx_frames_per_s'), 1) * 1000:.0f} ms at "
          f"{fmt(num(f'soak.{s}.rx_frames_per_s'))} RX frames/s), i.e. the host threads were not scheduled for that "
          f"long: the longest wait of a completed IN transfer for the host event thread was "
          f"{fmt(num(f'soak.{s}.in_delivery_max_us'))} us ({g(f'soak.{s}.in_delivery_over_1ms')} "
          "transfers waited over 1 ms). A bus load under 100 % means the adapter's TX queue ran empty for the same "
          f"reason. Load average when the run started: {g('load.soak_long') if s in ('std0-minstuff', 'mixed') else g('load.soak_short')} "
          "on 2 cores shared with other work; the device thread itself takes "
          f"{num(f'soak.{s}.device_cpu_pct'):.0f} % of a core. Riding out a stall of "
          f"{num(f'soak.{s}.in_delivery_max_us') / 1000:.0f} ms at {fmt(num(f'soak.{s}.rx_frames_per_s'))} "
          f"RX frames/s would take about "
          f"{fmt(num(f'soak.{s}.in_delivery_max_us') / 1e6 * num(f'soak.{s}.rx_frames_per_s'))} IN "
          "transfers in flight (winusb/link_libusb.c has 16, the Linux kernel driver 20); the "
          "driver lost nothing on its own side (no ring overruns, nothing reordered).")
        w("")
for s in usb:
    lim = num(f"soak.{s}.bus_limit_fps")
    fps = num(f"soak.{s}.frames_per_s")
    if lim and fps < 0.99 * lim:
        missed = True
        w(f"**libusb + umockdev reaches {fmt(fps)} frames/s, {100 * fps / lim:.1f} % of the bus.** "
          "umockdev is the bottleneck, not the driver: every URB submit and every reap is a "
          "round trip through umockdev's socket to its worker thread, and libusb reaps through "
          "that path. The thread table shows where the time goes (the umockdev worker versus "
          "the libusb event thread and their wake-ups per frame). At that rate the driver lost "
          f"{fmt(num(f'soak.{s}.rx_lost') + num(f'soak.{s}.tx_lost'))} and reordered "
          f"{fmt(num(f'soak.{s}.rx_reordered') + num(f'soak.{s}.tx_reordered'))} frames. "
          "The in-process soak above measures the host at the full bus rate instead.")
        w("")
for t in TICKS:
    p99v = num(f"wake.t{t}.p99_us", -1)
    bare = num(f"bare.t{t}.p99_us", -1)
    if 0 <= p99v < TARGET_P99_US:
        continue
    missed = True
    w(f"**Wake latency p99 {p99v:.1f} us with packets every {t} us.** Without the driver the "
      f"same hand-off has p99 {bare:.1f} us (p50 {num(f'bare.t{t}.p50_us'):.1f} us against the "
      f"driver's {num(f'wake.t{t}.p50_us'):.1f} us): the driver's path is one mutex, a ring "
      "push and a condition-variable signal after unlocking, and the tail is the kernel's "
      "wake-up of a thread whose virtual CPU went idle, which grows the longer the CPU sleeps "
      "between packets (compare the grids, and the floor's latency column). "
      + ("No driver can reach p99 < 100 us at this pace on this machine." if bare >= TARGET_P99_US
         else "The kernel alone stays under 100 us here, so this miss is the driver's.")
      + f" Load average at the start: {g('load.wake' if t == 100 else 'load.wake_sparse')}.")
    w("")
if not missed:
    w("None: every target was met in this run.")
    w("")

w("## Reproduce")
w("")
w("```sh")
w("bench/run.sh        # builds linux-release, runs everything, rewrites bench/RESULTS.md")
w("```")
w("")
w("Each figure above names the command that produced it; run it from `build/linux-release`. "
  "Raw output: `build/bench/results.txt` (key=value), callgrind files in `build/bench/`.")

print("\n".join(lines))
