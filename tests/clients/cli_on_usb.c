/*
 * cli_on_usb.c — usb2can-cli doctor and selftest on a modelled USB2CAN
 * reached through real libusb (Linux, under umockdev's preload library).
 *
 * Contract: loads the umockdev rig named by U2C_E2E_RIG
 * (e2e_rig_for_python.c), plugs one vendor-firmware adapter ED000300 whose
 * bus has one other node (the rig's far end), then runs the CLI's commands
 * in this process against libusb2can.so, as a user would run them:
 * - doctor finds that adapter, opens it and reports no problem (exit 0);
 * - selftest ED000300 gets every frame back in silent loopback (PASS), and
 *   the far end of the bus receives none of them;
 * - selftest at a rate the adapter was not expecting still passes (silent
 *   loopback needs no other node at the same rate).
 * - scan ED000300 finds the far end's 500 kbit/s while it sends (the scan
 *   is silent, so the far end's frame is never acknowledged: it goes on
 *   retransmitting, which the scan receives), prints the working setup
 *   string, and the far end received nothing from it.
 * Prints PASS/FAIL per check; exits 0 only when every check passed.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SERIAL "ED000300"
#define TEXT_MAX 16384

typedef void *(*plug_fn)(const char *serial, unsigned far_kbps);
typedef void (*unplug_fn)(void *rig);
typedef unsigned long (*received_total_fn)(void *rig);
typedef int (*far_send_fn)(void *rig, unsigned long id, int extended, int rtr, int dlc,
                           const unsigned char *data);

static int passed, failed;
static char out_text[TEXT_MAX], err_text[TEXT_MAX];

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
    ok ? passed++ : failed++;
}

static void slurp(FILE *f, char *text)
{
    rewind(f);
    size_t n = fread(text, 1, TEXT_MAX - 1, f);
    text[n] = '\0';
    fclose(f);
}

/* Runs one usb2can-cli command line; its output lands in out_text/err_text. */
static int cli(const char *first, ...)
{
    char *argv[16] = {"usb2can-cli"};
    int argc = 1;
    va_list args;
    va_start(args, first);
    for (const char *a = first; a != NULL && argc < 15; a = va_arg(args, const char *))
        argv[argc++] = (char *)a;
    va_end(args);
    FILE *out = tmpfile(), *err = tmpfile();
    if (out == NULL || err == NULL) {
        check(0, "temporary files for the output");
        exit(1);
    }
    int status = u2c_cli_run(argc, argv, out, err);
    slurp(out, out_text);
    slurp(err, err_text);
    printf("--- usb2can-cli %s ... exited %d\n%s%s", first, status, out_text, err_text);
    return status;
}

int main(void)
{
    const char *path = getenv("U2C_E2E_RIG");
    void *lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (lib == NULL) {
        printf("FAIL: cannot load the rig named by U2C_E2E_RIG (%s): %s\n", path ? path : "unset",
               dlerror());
        return 1;
    }
    plug_fn plug;
    unplug_fn unplug;
    received_total_fn far_total;
    far_send_fn far_send;
    *(void **)&plug = dlsym(lib, "e2e_rig_plug");
    *(void **)&unplug = dlsym(lib, "e2e_rig_unplug_all");
    *(void **)&far_total = dlsym(lib, "e2e_far_received_total");
    *(void **)&far_send = dlsym(lib, "e2e_far_send");
    void *rig = plug && unplug && far_total && far_send ? plug(SERIAL, 500) : NULL;
    if (rig == NULL) {
        printf("FAIL: the rig could not plug %s (is umockdev's preload library loaded?)\n", SERIAL);
        return 1;
    }

    int status = cli("doctor", NULL);
    check(status == 0, "doctor exits 0 with a free adapter present");
    check(strstr(out_text, "\n" SERIAL " ") != NULL, "doctor lists " SERIAL);
    check(strstr(out_text,
                 "\n" SERIAL "  1-1       -        free   1.7       1.0       USB2CAN\n") != NULL,
          "doctor read the adapter's firmware and hardware versions");
    check(strstr(out_text, "\nproblems: none found\n") != NULL, "doctor found no problem");

    status = cli("selftest", SERIAL, "--seconds", "1", NULL);
    check(status == 0, "selftest " SERIAL " exits 0");
    check(strstr(out_text, "\nadapter: " SERIAL ", driver ") != NULL,
          "selftest names the adapter's driver");
    check(strstr(out_text, "\nfirmware: 1.7, hardware 1.0\n") != NULL,
          "selftest reads the firmware version");
    check(strstr(out_text, "lost 0, reordered 0, damaged 0, overruns 0, failed calls 0\n") != NULL,
          "every frame came back through libusb, in order");
    check(strstr(out_text, "\nresult: PASS\n") != NULL, "selftest passes");
    check(far_total(rig) == 0, "nothing reached the bus: the far end received no frame");

    status = cli("selftest", SERIAL, "--seconds", "1", "--kbps", "125", NULL);
    check(status == 0 && strstr(out_text, "\nresult: PASS\n") != NULL,
          "selftest at 125 kbit/s passes with the far end at 500 kbit/s");
    check(far_total(rig) == 0, "still nothing on the bus");

    static const unsigned char data[2] = {0x11, 0x22};
    check(far_send(rig, 0x123, 0, 0, 2, data) == 1, "the far end queued a frame at 500 kbit/s");
    status = cli("scan", SERIAL, "--rates", "1000,250,500,125", "--dwell", "200", NULL);
    check(status == 0, "scan " SERIAL " exits 0");
    check(strstr(out_text, "  1000 kbit/s       87.5 %        0      1") != NULL,
          "scan: stuff errors and no frame at 1000 kbit/s");
    check(strstr(out_text, "\nanswer: 500 kbit/s, sample point 87.5 %: ") != NULL,
          "scan finds 500 kbit/s through libusb");
    check(strstr(out_text, "\nsetup string: " SERIAL ";500\n") != NULL,
          "scan prints the working setup string");
    check(strstr(out_text, "125 kbit/s") == NULL, "scan stops at the first certain answer");
    check(far_total(rig) == 0, "the scan sent nothing: the far end received no frame");

    unplug(rig);
    printf("cli on usb: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
