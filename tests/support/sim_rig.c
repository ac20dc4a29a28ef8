/* An adapter under test and a peer on one virtual bus (sim_rig.h). */
#include "sim_rig.h"

#include <string.h>

bool sim_rig_init(sim_rig *r, vbus_mode mode, const u8d_model_config *dut_cfg, uint64_t now_ns)
{
    memset(r, 0, sizeof *r);
    u8d_model_config peer_cfg;
    u8d_model_config_vendor(&peer_cfg);
    r->bus = vbus_create(mode, now_ns);
    r->dut = u8d_model_create(dut_cfg, now_ns);
    r->peer = u8d_model_create(&peer_cfg, now_ns);
    if (r->bus == NULL || r->dut == NULL || r->peer == NULL) {
        sim_rig_free(r);
        return false;
    }
    r->dut_index = vbus_attach(r->bus, r->dut);
    r->peer_index = vbus_attach(r->bus, r->peer);
    if (r->dut_index < 0 || r->peer_index < 0) {
        sim_rig_free(r);
        return false;
    }
    return true;
}

void sim_rig_free(sim_rig *r)
{
    if (r->bus)
        vbus_destroy(r->bus);
    u8d_model_destroy(r->dut);
    u8d_model_destroy(r->peer);
    memset(r, 0, sizeof *r);
}

bool sim_rig_peer_open(sim_rig *r, unsigned kbps, uint64_t now_ns)
{
    uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_bittiming bt;
    if (kbps == 0)
        u8d_encode_command(request, U8D_CMD_CLOSE, 0, 0, NULL);
    else if (!u8d_bittiming_standard(kbps, &bt) || u8d_encode_open(request, &bt, 0) != U8D_OK)
        return false;
    return u8d_model_command(r->peer, now_ns, request, sizeof request, reply) == sizeof reply &&
           u8d_check_reply(reply, sizeof reply, request[2]) == U8D_OK;
}

bool sim_rig_peer_send(sim_rig *r, const u8d_frame *f, uint64_t now_ns)
{
    uint8_t record[U8D_TX_RECORD_SIZE];
    if (u8d_encode_tx(record, f) != U8D_OK)
        return false;
    return u8d_model_data_out(r->peer, now_ns, record, sizeof record) == U8D_MODEL_OUT_ACCEPTED;
}

size_t sim_rig_peer_drain(sim_rig *r, uint64_t now_ns, sim_rig_frame_fn fn, void *ctx)
{
    uint8_t packet[U8D_IN_PACKET_MAX];
    size_t n, frames = 0;
    while ((n = u8d_model_data_in(r->peer, now_ns, packet)) > 0) {
        u8d_in_packet pkt;
        u8d_decode_in_packet(packet, n, U8D_FLAVOR_VENDOR, &pkt);
        for (size_t i = 0; i < pkt.records; i++) {
            if (pkt.st[i] == U8D_OK && pkt.rec[i].type == U8D_TYPE_CAN) {
                fn(ctx, &pkt.rec[i].frame);
                frames++;
            }
        }
    }
    return frames;
}
