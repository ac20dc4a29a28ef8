/*
 * net_socket.h — the few TCP/UDP socket calls the socketcand server and
 * client need, one API over BSD sockets and Winsock 2 (IPv4 only, as
 * socketcand's beacon and python-can's client are).
 *
 * Contract: u2c_net_init must succeed once before any other call (Winsock's
 * WSAStartup; nothing elsewhere); it may be called any number of times and
 * from any thread. No call raises SIGPIPE or changes its disposition (sends
 * use MSG_NOSIGNAL), so the library can use this inside any program.
 * Sockets are non-blocking once u2c_net_set_nonblocking was called on
 * them; u2c_net_send and u2c_net_recv then never wait. Every failure leaves
 * a readable reason where the caller gave room for one. No call allocates
 * after u2c_net_init except u2c_net_connect's name lookup.
 */
#ifndef USB2CAN_NET_SOCKET_H
#define USB2CAN_NET_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef intptr_t u2c_socket;
#define U2C_SOCKET_INVALID ((u2c_socket)-1)

#define U2C_NET_WOULD_BLOCK (-1L) /* from send/recv: try again later */
#define U2C_NET_FAILED (-2L)      /* from send/recv: the connection is broken */

#define U2C_NET_POLL_IN 1
#define U2C_NET_POLL_OUT 2
#define U2C_NET_POLL_ERR 4 /* hang-up or error; revents only */

typedef struct u2c_net_pollfd {
    u2c_socket sock;
    unsigned events;
    unsigned revents;
} u2c_net_pollfd;

typedef struct u2c_net_addr {
    uint32_t ip; /* host order */
    uint16_t port;
} u2c_net_addr;

bool u2c_net_init(char *reason, size_t reason_size);

/* "A.B.C.D", "A.B.C.D:PORT" or ":PORT"; default_port when none is given. */
bool u2c_net_parse_addr(const char *text, uint16_t default_port, u2c_net_addr *addr);
/* "A.B.C.D/N" or "A.B.C.D" (= /32). */
bool u2c_net_parse_cidr(const char *text, uint32_t *network, uint32_t *mask);
/* "A.B.C.D" or "A.B.C.D:PORT" into out (at least 22 bytes). */
void u2c_net_format_addr(const u2c_net_addr *addr, char *out, size_t size);
bool u2c_net_is_loopback(uint32_t ip);

u2c_socket u2c_net_listen(const u2c_net_addr *addr, char *reason, size_t reason_size);
/* U2C_SOCKET_INVALID when none is waiting (listening socket non-blocking). */
u2c_socket u2c_net_accept(u2c_socket listener, u2c_net_addr *peer);
/* Resolves host (a name or A.B.C.D), connects within timeout_ms; the
 * socket returned is blocking with TCP_NODELAY set. */
u2c_socket u2c_net_connect(const char *host, uint16_t port, unsigned timeout_ms, char *reason,
                           size_t reason_size);
/* Binds to local before connecting (tests: a second loopback address as peer). */
u2c_socket u2c_net_connect_from(const u2c_net_addr *local, const u2c_net_addr *remote,
                                unsigned timeout_ms, char *reason, size_t reason_size);
bool u2c_net_set_nonblocking(u2c_socket s);
void u2c_net_set_nodelay(u2c_socket s);
/* Bytes sent (>= 0), U2C_NET_WOULD_BLOCK or U2C_NET_FAILED. */
long u2c_net_send(u2c_socket s, const void *bytes, size_t len);
/* Bytes read (> 0), 0 when the peer closed, U2C_NET_WOULD_BLOCK or U2C_NET_FAILED. */
long u2c_net_recv(u2c_socket s, void *bytes, size_t len);
/* Ends both directions at once, so a thread blocked on s returns. */
void u2c_net_shutdown(u2c_socket s);
void u2c_net_close(u2c_socket s);

/* Number ready, 0 on timeout, -1 on failure; timeout_ms < 0 waits forever. */
int u2c_net_poll(u2c_net_pollfd *fds, size_t count, int timeout_ms);

/* Two connected loopback UDP sockets: a byte sent on pair[1] makes pair[0]
 * readable; how another thread wakes a poll. */
bool u2c_net_wake_pair(u2c_socket pair[2], char *reason, size_t reason_size);
void u2c_net_wake(u2c_socket writer);
void u2c_net_drain(u2c_socket reader);

/* A UDP socket allowed to broadcast, or U2C_SOCKET_INVALID. */
u2c_socket u2c_net_udp_broadcaster(void);
bool u2c_net_send_to(u2c_socket s, const u2c_net_addr *to, const void *bytes, size_t len);

/* Microseconds since 1970-01-01 UTC, the wall clock network protocols stamp
 * frames with (socketcand); not monotonic. */
uint64_t u2c_net_epoch_us(void);

/* The last socket error of this thread as text. */
void u2c_net_last_error(char *out, size_t size);

#endif
