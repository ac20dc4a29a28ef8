/*
 * usb2can-cli serve: opens the adapters named by the setup strings and
 * serves each as a socketcand bus (serve.h, docs/socketcand.md) until
 * Ctrl+C.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_parse.h"
#include "serve.h"
#include "usb2can.h"

const char cli_serve_help[] =
    "Usage: usb2can-cli serve SETUP [SETUP...] [--listen ADDR:PORT] [--name N]...\n"
    "                         [--allow CIDR]... [--beacon] [--error-mask MASK]\n"
    "\n"
    "Shares adapters with any number of programs and machines over the socketcand\n"
    "protocol (python-can's 'socketcand' interface, Kayak, CanalOpen(\"BUS@HOST\")).\n"
    "Each adapter is a bus named by its serial number, or by the --name given in\n"
    "the same order. Every client sees every frame on its bus and every frame the\n"
    "other clients send, never its own.\n"
    "Options:\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:29536; only this\n"
    "                      machine can connect unless you give another address)\n"
    "  --name N            the bus name of the next SETUP (at most 16 characters)\n"
    "  --allow CIDR        accept peers only from this network, e.g. 192.168.1.0/24\n"
    "                      (repeatable; default: loopback only when listening on\n"
    "                      loopback, everyone otherwise)\n"
    "  --beacon            announce the buses with the CANBeacon on UDP port 42000\n"
    "  --error-mask MASK   send these SocketCAN error classes as '< error >' in raw\n"
    "                      mode, e.g. 0x1FFFFFFF for all (default 0: none, as\n"
    "                      socketcand)\n"
    "The protocol has no authentication and no encryption: anyone who can connect\n"
    "can send on the bus. Ctrl+C stops.\n";

static bool take_value(const cli_context *cx, int argc, char **argv, int *i, const char *name,
                       const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (arg[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        cli_usage_error(cx, "%s needs a value", name);
        *value = NULL;
        return true;
    }
    *value = argv[++*i];
    return true;
}

int cli_command_serve(const cli_context *cx, int argc, char **argv)
{
    u2c_serve_config *cfg = calloc(1, sizeof *cfg);
    const char *setups[U2C_SERVE_BUSES_MAX];
    const char *names[U2C_SERVE_BUSES_MAX];
    size_t setup_count = 0, name_count = 0;
    int status = CLI_OK;
    if (cfg == NULL) {
        fprintf(cx->err, "usb2can-cli serve: out of memory\n");
        return CLI_RUNTIME;
    }
    u2c_net_parse_addr("127.0.0.1", U2C_SERVE_PORT, &cfg->listen);
    cfg->log = cx->out;
    for (int i = 0; i < argc && status == CLI_OK; i++) {
        const char *value;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cli_serve_help, cx->out);
            free(cfg);
            return CLI_OK;
        } else if (strcmp(argv[i], "--beacon") == 0) {
            cfg->beacon = true;
        } else if (take_value(cx, argc, argv, &i, "--listen", &value)) {
            if (value == NULL)
                status = CLI_USAGE;
            else if (!u2c_net_parse_addr(value, U2C_SERVE_PORT, &cfg->listen))
                status = cli_usage_error(cx, "--listen '%s': give A.B.C.D:PORT", value);
        } else if (take_value(cx, argc, argv, &i, "--error-mask", &value)) {
            unsigned long mask;
            if (value == NULL)
                status = CLI_USAGE;
            else if (!cli_parse_number(value, 0, 0x1FFFFFFFUL, &mask))
                status = cli_usage_error(cx, "--error-mask '%s': a number up to 0x1FFFFFFF", value);
            else
                cfg->error_mask = (uint32_t)mask;
        } else if (take_value(cx, argc, argv, &i, "--allow", &value)) {
            if (value == NULL)
                status = CLI_USAGE;
            else if (cfg->allow_count == U2C_SERVE_ALLOW_MAX)
                status = cli_usage_error(cx, "at most %d --allow", U2C_SERVE_ALLOW_MAX);
            else if (!u2c_net_parse_cidr(value, &cfg->allow_network[cfg->allow_count],
                                         &cfg->allow_mask[cfg->allow_count]))
                status = cli_usage_error(cx, "--allow '%s': give A.B.C.D/N", value);
            else
                cfg->allow_count++;
        } else if (take_value(cx, argc, argv, &i, "--name", &value)) {
            if (value == NULL)
                status = CLI_USAGE;
            else if (value[0] == '\0' || strlen(value) > U2C_SCAND_BUS_NAME_MAX ||
                     strpbrk(value, " <>\t") != NULL)
                status = cli_usage_error(cx, "--name '%s': 1 to %d characters, no spaces or <>",
                                         value, U2C_SCAND_BUS_NAME_MAX);
            else if (name_count == U2C_SERVE_BUSES_MAX)
                status = cli_usage_error(cx, "more --name than buses");
            else
                names[name_count++] = value;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            status = cli_usage_error(cx, "unknown option '%s'", argv[i]);
        } else if (setup_count == U2C_SERVE_BUSES_MAX) {
            status = cli_usage_error(cx, "at most %d adapters", U2C_SERVE_BUSES_MAX);
        } else {
            setups[setup_count++] = argv[i];
        }
    }
    if (status == CLI_OK && setup_count == 0)
        status = cli_usage_error(cx, "missing SETUP");
    if (status == CLI_OK && name_count > setup_count)
        status = cli_usage_error(cx, "%u --name for %u adapters", (unsigned)name_count,
                                 (unsigned)setup_count);
    if (status != CLI_OK) {
        free(cfg);
        return status;
    }
    if (cfg->allow_count == 0 && u2c_net_is_loopback(cfg->listen.ip)) {
        u2c_net_parse_cidr("127.0.0.0/8", &cfg->allow_network[0], &cfg->allow_mask[0]);
        cfg->allow_count = 1;
    } else if (cfg->allow_count == 0) {
        fprintf(cx->err, "usb2can-cli serve: warning: every peer that reaches this machine may "
                         "connect and send; restrict it with --allow\n");
    }
    for (size_t i = 0; i < setup_count; i++) {
        u2c_serve_bus *bus = &cfg->buses[i];
        if (i < name_count)
            snprintf(bus->name, sizeof bus->name, "%s", names[i]);
        else
            cli_setup_name(setups[i], bus->name, sizeof bus->name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(cfg->buses[k].name, bus->name) == 0)
                status = cli_usage_error(cx, "two buses named %s; give --name", bus->name);
        if (status != CLI_OK)
            break;
        bus->handle = cli_open(cx, setups[i], USB2CAN_FLAG_STATUS_FRAMES);
        if (bus->handle == 0) {
            status = CLI_RUNTIME;
            break;
        }
        cfg->bus_count++;
        fprintf(cx->out, "serve: bus %s = %s\n", bus->name, setups[i]);
    }
    if (status == CLI_OK) {
        cli_stop_reset();
        char reason[256] = "";
        if (u2c_serve_run(cfg, reason, sizeof reason) != 0) {
            fprintf(cx->err, "usb2can-cli serve: %s\n", reason);
            status = CLI_RUNTIME;
        }
    }
    for (size_t i = 0; i < cfg->bus_count; i++)
        CanalClose(cfg->buses[i].handle);
    free(cfg);
    return status;
}
