/*
 * usb2can-cli: list adapters, monitor and send frames, through the public
 * CANAL API of the usb2can library (see cli.h; `usb2can-cli --help`).
 */
#include <signal.h>
#include <stdio.h>

#include "cli.h"

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    u2c_cli_request_stop();
}

int main(int argc, char **argv)
{
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    return u2c_cli_run(argc, argv, stdout, stderr);
}
