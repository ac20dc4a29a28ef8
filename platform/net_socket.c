/* TCP/UDP sockets over BSD sockets or Winsock 2 (net_socket.h). */
#if defined(_WIN32)
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* WSAPoll */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include "net_socket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osal.h"

#if defined(_WIN32)
typedef SOCKET native_socket;
#define NATIVE(s) ((SOCKET)(s))
static bool would_block(void)
{
    int e = WSAGetLastError();
    return e == WSAEWOULDBLOCK || e == WSAEINTR;
}
#else
typedef int native_socket;
#define NATIVE(s) ((int)(s))
static bool would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}
#endif

static u2c_mutex g_init_lock = U2C_MUTEX_INITIALIZER;
static bool g_initialised;

bool u2c_net_init(char *reason, size_t reason_size)
{
    u2c_mutex_lock(&g_init_lock);
    bool ok = true;
    if (!g_initialised) {
#if defined(_WIN32)
        WSADATA data;
        int rc = WSAStartup(MAKEWORD(2, 2), &data);
        if (rc != 0) {
            ok = false;
            if (reason_size)
                snprintf(reason, reason_size, "Winsock did not start (WSAStartup error %d)", rc);
        }
#else
        /* Nothing to start. A peer that closes must not end the process, but
         * a library may not change the program's SIGPIPE: every send here
         * passes MSG_NOSIGNAL instead. */
        (void)reason;
        (void)reason_size;
#endif
        g_initialised = ok;
    }
    u2c_mutex_unlock(&g_init_lock);
    return ok;
}

void u2c_net_last_error(char *out, size_t size)
{
    if (size == 0)
        return;
#if defined(_WIN32)
    int e = WSAGetLastError();
    char text[160] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)e, 0,
                   text, sizeof text, NULL);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == '.'))
        text[--n] = '\0';
    snprintf(out, size, "%s (WSA error %d)", n ? text : "socket error", e);
#else
    snprintf(out, size, "%s", strerror(errno));
#endif
}

static void set_reason(char *reason, size_t size, const char *what)
{
    if (reason == NULL || size == 0)
        return;
    char text[200];
    u2c_net_last_error(text, sizeof text);
    snprintf(reason, size, "%s: %s", what, text);
}

static bool parse_ipv4(const char *s, size_t len, uint32_t *ip)
{
    uint32_t value = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        unsigned part = 0;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            part = part * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (part > 255 || digits > 3)
            return false;
        value = (value << 8) | part;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    if (i != len)
        return false;
    *ip = value;
    return true;
}

static bool parse_number(const char *s, unsigned long max, unsigned long *out)
{
    if (*s == '\0')
        return false;
    unsigned long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

bool u2c_net_parse_addr(const char *text, uint16_t default_port, u2c_net_addr *addr)
{
    if (text == NULL)
        return false;
    const char *colon = strchr(text, ':');
    size_t host_len = colon ? (size_t)(colon - text) : strlen(text);
    addr->port = default_port;
    addr->ip = 0x7F000001u;
    if (colon) {
        unsigned long port;
        if (!parse_number(colon + 1, 65535, &port) || port == 0)
            return false;
        addr->port = (uint16_t)port;
    }
    if (host_len == 0)
        return colon != NULL;
    return parse_ipv4(text, host_len, &addr->ip);
}

bool u2c_net_parse_cidr(const char *text, uint32_t *network, uint32_t *mask)
{
    if (text == NULL)
        return false;
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    unsigned long bits = 32;
    if (slash && !parse_number(slash + 1, 32, &bits))
        return false;
    uint32_t ip;
    if (!parse_ipv4(text, host_len, &ip))
        return false;
    *mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
    *network = ip & *mask;
    return true;
}

void u2c_net_format_addr(const u2c_net_addr *addr, char *out, size_t size)
{
    snprintf(out, size, "%u.%u.%u.%u:%u", (unsigned)(addr->ip >> 24),
             (unsigned)(addr->ip >> 16) & 255, (unsigned)(addr->ip >> 8) & 255,
             (unsigned)addr->ip & 255, (unsigned)addr->port);
}

bool u2c_net_is_loopback(uint32_t ip)
{
    return (ip >> 24) == 127;
}

static struct sockaddr_in to_sockaddr(const u2c_net_addr *addr)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(addr->port);
    sa.sin_addr.s_addr = htonl(addr->ip);
    return sa;
}

static void close_native(native_socket s)
{
#if defined(_WIN32)
    closesocket(s);
#else
    close(s);
#endif
}

/* What socket() and accept() return is a socket, not their failure. */
static bool socket_made(native_socket s)
{
#if defined(_WIN32)
    return s != INVALID_SOCKET;
#else
    return s >= 0;
#endif
}

/* A new TCP socket in *s; false with a reason when none can be made. */
static bool new_tcp_socket(native_socket *s, char *reason, size_t reason_size)
{
    *s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    bool ok = socket_made(*s);
    if (!ok)
        set_reason(reason, reason_size, "cannot make a socket");
    return ok;
}

u2c_socket u2c_net_listen(const u2c_net_addr *addr, char *reason, size_t reason_size)
{
    native_socket s;
    if (!new_tcp_socket(&s, reason, reason_size))
        return U2C_SOCKET_INVALID;
#if defined(_WIN32)
    /* Without it Windows lets a second program bind the same port. */
    BOOL exclusive = TRUE;
    setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive, sizeof exclusive);
#else
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#endif
    struct sockaddr_in sa = to_sockaddr(addr);
    char where[32];
    u2c_net_format_addr(addr, where, sizeof where);
    char what[64];
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(what, sizeof what, "cannot listen on %s", where);
        set_reason(reason, reason_size, what);
        close_native(s);
        return U2C_SOCKET_INVALID;
    }
    if (listen(s, 16) != 0) {
        snprintf(what, sizeof what, "cannot listen on %s", where);
        set_reason(reason, reason_size, what);
        close_native(s);
        return U2C_SOCKET_INVALID;
    }
    return (u2c_socket)s;
}

u2c_socket u2c_net_accept(u2c_socket listener, u2c_net_addr *peer)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    native_socket s = accept(NATIVE(listener), (struct sockaddr *)&sa, &len);
    if (!socket_made(s))
        return U2C_SOCKET_INVALID;
    if (peer) {
        peer->ip = ntohl(sa.sin_addr.s_addr);
        peer->port = ntohs(sa.sin_port);
    }
    return (u2c_socket)s;
}

bool u2c_net_set_nonblocking(u2c_socket s)
{
#if defined(_WIN32)
    u_long on = 1;
    return ioctlsocket(NATIVE(s), FIONBIO, &on) == 0;
#else
    int flags = fcntl(NATIVE(s), F_GETFL, 0);
    return flags >= 0 && fcntl(NATIVE(s), F_SETFL, flags | O_NONBLOCK) == 0;
#endif
}

static bool set_blocking(native_socket s)
{
#if defined(_WIN32)
    u_long off = 0;
    return ioctlsocket(s, FIONBIO, &off) == 0;
#else
    int flags = fcntl(s, F_GETFL, 0);
    return flags >= 0 && fcntl(s, F_SETFL, flags & ~O_NONBLOCK) == 0;
#endif
}

void u2c_net_set_nodelay(u2c_socket s)
{
    int one = 1;
    setsockopt(NATIVE(s), IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

/* Connects s (already bound or not) within timeout_ms; leaves it blocking. */
static bool connect_within(native_socket s, const struct sockaddr_in *sa, unsigned timeout_ms,
                           char *reason, size_t reason_size, const char *where)
{
    char what[96];
    snprintf(what, sizeof what, "cannot connect to %s", where);
    u2c_net_set_nonblocking((u2c_socket)s);
    if (connect(s, (const struct sockaddr *)sa, sizeof *sa) != 0) {
#if defined(_WIN32)
        bool pending = WSAGetLastError() == WSAEWOULDBLOCK;
#else
        bool pending = errno == EINPROGRESS;
#endif
        if (!pending) {
            set_reason(reason, reason_size, what);
            return false;
        }
        u2c_net_pollfd p = {(u2c_socket)s, U2C_NET_POLL_OUT, 0};
        int n = u2c_net_poll(&p, 1, (int)timeout_ms);
        if (n == 0) {
            snprintf(reason, reason_size, "%s: no answer within %u ms", what, timeout_ms);
            return false;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &len);
        if (n < 0 || err != 0) {
#if defined(_WIN32)
            WSASetLastError(err);
#else
            errno = err;
#endif
            set_reason(reason, reason_size, what);
            return false;
        }
    }
    set_blocking(s);
    u2c_net_set_nodelay((u2c_socket)s);
    return true;
}

u2c_socket u2c_net_connect_from(const u2c_net_addr *local, const u2c_net_addr *remote,
                                unsigned timeout_ms, char *reason, size_t reason_size)
{
    native_socket s;
    if (!new_tcp_socket(&s, reason, reason_size))
        return U2C_SOCKET_INVALID;
    if (local) {
        struct sockaddr_in la = to_sockaddr(local);
        if (bind(s, (struct sockaddr *)&la, sizeof la) != 0) {
            set_reason(reason, reason_size, "cannot bind the local address");
            close_native(s);
            return U2C_SOCKET_INVALID;
        }
    }
    char where[32];
    u2c_net_format_addr(remote, where, sizeof where);
    struct sockaddr_in ra = to_sockaddr(remote);
    if (!connect_within(s, &ra, timeout_ms, reason, reason_size, where)) {
        close_native(s);
        return U2C_SOCKET_INVALID;
    }
    return (u2c_socket)s;
}

u2c_socket u2c_net_connect(const char *host, uint16_t port, unsigned timeout_ms, char *reason,
                           size_t reason_size)
{
    u2c_net_addr remote = {0, port};
    if (!parse_ipv4(host, strlen(host), &remote.ip)) {
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo *found = NULL;
        int rc = getaddrinfo(host, NULL, &hints, &found);
        if (rc != 0 || found == NULL) {
            snprintf(reason, reason_size, "cannot find host '%s' (%s)", host,
#if defined(_WIN32)
                     "name lookup failed"
#else
                     gai_strerror(rc)
#endif
            );
            if (found)
                freeaddrinfo(found);
            return U2C_SOCKET_INVALID;
        }
        remote.ip = ntohl(((struct sockaddr_in *)found->ai_addr)->sin_addr.s_addr);
        freeaddrinfo(found);
    }
    return u2c_net_connect_from(NULL, &remote, timeout_ms, reason, reason_size);
}

long u2c_net_send(u2c_socket s, const void *bytes, size_t len)
{
#if defined(_WIN32)
    int n = send(NATIVE(s), (const char *)bytes, len > 0x7FFFFFFF ? 0x7FFFFFFF : (int)len, 0);
#else
    ssize_t n = send(NATIVE(s), bytes, len, MSG_NOSIGNAL);
#endif
    if (n >= 0)
        return (long)n;
    return would_block() ? U2C_NET_WOULD_BLOCK : U2C_NET_FAILED;
}

long u2c_net_recv(u2c_socket s, void *bytes, size_t len)
{
#if defined(_WIN32)
    int n = recv(NATIVE(s), (char *)bytes, len > 0x7FFFFFFF ? 0x7FFFFFFF : (int)len, 0);
#else
    ssize_t n = recv(NATIVE(s), bytes, len, 0);
#endif
    if (n >= 0)
        return (long)n;
    return would_block() ? U2C_NET_WOULD_BLOCK : U2C_NET_FAILED;
}

void u2c_net_shutdown(u2c_socket s)
{
#if defined(_WIN32)
    shutdown(NATIVE(s), SD_BOTH);
#else
    shutdown(NATIVE(s), SHUT_RDWR);
#endif
}

void u2c_net_close(u2c_socket s)
{
    if (s != U2C_SOCKET_INVALID)
        close_native(NATIVE(s));
}

int u2c_net_poll(u2c_net_pollfd *fds, size_t count, int timeout_ms)
{
#if defined(_WIN32)
    WSAPOLLFD native[64];
    typedef WSAPOLLFD poll_entry;
#else
    struct pollfd native[64];
    typedef struct pollfd poll_entry;
#endif
    if (count > sizeof native / sizeof native[0])
        return -1;
    for (size_t i = 0; i < count; i++) {
        poll_entry *p = &native[i];
        memset(p, 0, sizeof *p);
        p->fd = NATIVE(fds[i].sock);
        p->events = (short)(((fds[i].events & U2C_NET_POLL_IN) ? POLLIN : 0) |
                            ((fds[i].events & U2C_NET_POLL_OUT) ? POLLOUT : 0));
    }
#if defined(_WIN32)
    int n = WSAPoll(native, (ULONG)count, timeout_ms);
#else
    int n = poll(native, (nfds_t)count, timeout_ms);
    if (n < 0 && errno == EINTR)
        n = 0;
#endif
    if (n < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        short r = native[i].revents;
        fds[i].revents = ((r & POLLIN) ? U2C_NET_POLL_IN : 0u) |
                         ((r & POLLOUT) ? U2C_NET_POLL_OUT : 0u) |
                         ((r & (POLLERR | POLLHUP | POLLNVAL)) ? U2C_NET_POLL_ERR : 0u);
    }
    return n;
}

bool u2c_net_wake_pair(u2c_socket pair[2], char *reason, size_t reason_size)
{
    native_socket a = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    native_socket b = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7F000001u);
    struct sockaddr_in a_addr, b_addr;
    socklen_t len = sizeof a_addr;
    bool ok = bind(a, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              bind(b, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              getsockname(a, (struct sockaddr *)&a_addr, &len) == 0 &&
              (len = sizeof b_addr, getsockname(b, (struct sockaddr *)&b_addr, &len) == 0) &&
              connect(a, (struct sockaddr *)&b_addr, sizeof b_addr) == 0 &&
              connect(b, (struct sockaddr *)&a_addr, sizeof a_addr) == 0;
    if (!ok) {
        set_reason(reason, reason_size, "cannot make the wake-up sockets");
        close_native(a);
        close_native(b);
        return false;
    }
    pair[0] = (u2c_socket)a;
    pair[1] = (u2c_socket)b;
    u2c_net_set_nonblocking(pair[0]);
    u2c_net_set_nonblocking(pair[1]);
    return true;
}

void u2c_net_wake(u2c_socket writer)
{
    char byte = 1;
    (void)u2c_net_send(writer, &byte, 1);
}

void u2c_net_drain(u2c_socket reader)
{
    char bytes[64];
    while (u2c_net_recv(reader, bytes, sizeof bytes) > 0) {
    }
}

u2c_socket u2c_net_udp_broadcaster(void)
{
    native_socket s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (!socket_made(s))
        return U2C_SOCKET_INVALID;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_BROADCAST, (const char *)&one, sizeof one);
    return (u2c_socket)s;
}

bool u2c_net_send_to(u2c_socket s, const u2c_net_addr *to, const void *bytes, size_t len)
{
    struct sockaddr_in sa = to_sockaddr(to);
    return sendto(NATIVE(s), (const char *)bytes, (int)len, 0, (struct sockaddr *)&sa, sizeof sa) ==
           (int)len;
}

uint64_t u2c_net_epoch_us(void)
{
#if defined(_WIN32)
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
    return t / 10u - 11644473600000000ULL;
#else
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
#endif
}
