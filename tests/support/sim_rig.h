/*
 * sim_rig.h — an adapter under test and one more node on a virtual CAN bus:
 * the simulated world the end-to-end tests (tests/support/model_rig) and the
 * benchmarks (bench/bench_device) put behind a host. The virtual adapters
 * (link_virtual.h) are the other assembly: up to eight adapters on one bus,
 * every one of them driven by a host.
 *
 * Contract: no threads, no locks and no clock of its own: the owner
 * serialises every call and passes the time (nanoseconds, never going
 * back). The device under test (dut) is a device model whose USB face the
 * owner drives; the peer is a vendor-firmware model the owner drives as a
 * host would, through the helpers below. sim_rig_init allocates; nothing
 * after it does.
 */
#ifndef USB2CAN_SIM_RIG_H
#define USB2CAN_SIM_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "u8d_model.h"
#include "vbus.h"

typedef struct sim_rig {
    vbus *bus;
    u8d_model *dut;  /* the adapter under test */
    u8d_model *peer; /* the other node */
    int dut_index, peer_index;
} sim_rig;

/* A fresh bus (mode), the dut as dut_cfg says (powered on at now_ns) and a
 * closed peer. False, with nothing left allocated, when memory runs out. */
bool sim_rig_init(sim_rig *r, vbus_mode mode, const u8d_model_config *dut_cfg, uint64_t now_ns);
void sim_rig_free(sim_rig *r);

/* OPENs the peer at a standard rate (kbps > 0) or CLOSEs it (0): a closed
 * peer ACKs nothing. False when the peer refuses. */
bool sim_rig_peer_open(sim_rig *r, unsigned kbps, uint64_t now_ns);
/* Offers one frame to the peer's transmit list; true when it took it. */
bool sim_rig_peer_send(sim_rig *r, const u8d_frame *f, uint64_t now_ns);
/* Reads every IN packet the peer holds and hands each received CAN frame,
 * in order, to fn (status records are skipped). Returns the frame count. */
typedef void (*sim_rig_frame_fn)(void *ctx, const u8d_frame *f);
size_t sim_rig_peer_drain(sim_rig *r, uint64_t now_ns, sim_rig_frame_fn fn, void *ctx);

#endif
