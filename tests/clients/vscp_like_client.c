/*
 * vscp_like_client.c — a CANAL host written the way VSCP's loaders are
 * (vscpd's device thread, VSCP Works' CANAL device interface), knowing
 * nothing of this project: no canal.h, its own canalMsg with unsigned long
 * fields, its own __stdcall (WINAPI) function-pointer types.
 *
 * Contract: loads the library by name (LoadLibrary("usb2can.dll") from the
 * program's folder on Windows; dlopen(argv[1], default "libusb2can.so")
 * elsewhere), resolves the 13 mandatory CANAL names and the 3
 * "generation 2" ones, requires generation 2, checks that
 * CanalGetDriverInfo() is well-formed XML with one root <config>, then
 * opens VIRTUAL0 and VIRTUAL1 and moves 10,000 frames: a sender thread
 * calls CanalBlockingSend(h, &m, 300) as vscpd does, the main thread polls
 * CanalBlockingReceive(h, &m, 50) until every frame has arrived. Exits 0
 * only when count, order and every byte match; prints why otherwise.
 *
 * Being an outside program, it uses LoadLibrary/CreateThread and
 * dlopen/pthreads directly rather than the library's osal.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#define WINAPI
#endif

/* The message as VSCP's canal.h declares it. */
typedef struct {
    unsigned long flags;
    unsigned long obid;
    unsigned long id;
    unsigned char sizeData;
    unsigned char data[8];
    unsigned long timestamp;
} client_msg;

typedef struct {
    unsigned long cntReceiveFrames;
    unsigned long cntTransmitFrames;
    unsigned long cntReceiveData;
    unsigned long cntTransmitData;
    unsigned long cntOverruns;
    unsigned long cntBusWarnings;
    unsigned long cntBusOff;
} client_statistics;

#define CLIENT_IDFLAG_EXTENDED 0x00000001UL
#define CLIENT_IDFLAG_RTR 0x00000002UL
#define CLIENT_IDFLAG_STATUS 0x00000004UL
#define CLIENT_ERROR_SUCCESS 0
#define CLIENT_ERROR_FIFO_EMPTY 8
#define CLIENT_ERROR_TIMEOUT 32
#define CLIENT_LEVEL_STANDARD 1

/* Loader typedefs as in VSCP's canaldlldef.h: __stdcall on Windows. */
typedef long(WINAPI *fn_open)(const char *config, unsigned long flags);
typedef int(WINAPI *fn_close)(long handle);
typedef unsigned long(WINAPI *fn_get_level)(long handle);
typedef int(WINAPI *fn_send)(long handle, client_msg *msg);
typedef int(WINAPI *fn_receive)(long handle, client_msg *msg);
typedef int(WINAPI *fn_data_available)(long handle);
typedef int(WINAPI *fn_get_status)(long handle, void *status);
typedef int(WINAPI *fn_get_statistics)(long handle, client_statistics *statistics);
typedef int(WINAPI *fn_set_filter)(long handle, unsigned long filter);
typedef int(WINAPI *fn_set_mask)(long handle, unsigned long mask);
typedef unsigned long(WINAPI *fn_get_version)(void);
typedef unsigned long(WINAPI *fn_get_dll_version)(void);
typedef const char *(WINAPI *fn_get_vendor_string)(void);
typedef int(WINAPI *fn_blocking_send)(long handle, client_msg *msg, unsigned long timeout);
typedef int(WINAPI *fn_blocking_receive)(long handle, client_msg *msg, unsigned long timeout);
typedef const char *(WINAPI *fn_get_driver_info)(void);

typedef struct canal_driver {
    fn_open open;
    fn_close close;
    fn_get_level get_level;
    fn_send send;
    fn_data_available data_available;
    fn_receive receive;
    fn_get_status get_status;
    fn_get_statistics get_statistics;
    fn_set_filter set_filter;
    fn_set_mask set_mask;
    fn_get_version get_version;
    fn_get_dll_version get_dll_version;
    fn_get_vendor_string get_vendor_string;
    fn_blocking_send blocking_send;       /* generation 2 */
    fn_blocking_receive blocking_receive; /* generation 2 */
    fn_get_driver_info get_driver_info;   /* generation 2 */
    int generation;
} canal_driver;

#define FRAME_COUNT 10000
#define SEND_TIMEOUT_MS 300
#define POLL_TIMEOUT_MS 50
#define TRANSFER_DEADLINE_S 60.0

static int failures;

static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("FAIL: ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    failures++;
}

static double now_s(void)
{
#if defined(_WIN32)
    LARGE_INTEGER frequency, counter;
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&counter);
    return (double)counter.QuadPart / (double)frequency.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

/* ---- loading, as vscpd does it ---------------------------------------- */

#if defined(_WIN32)
typedef HMODULE library;
static library library_open(const char *name)
{
    return LoadLibraryA(name);
}
static void *library_symbol(library lib, const char *name)
{
    return (void *)GetProcAddress(lib, name);
}
static void library_close(library lib)
{
    FreeLibrary(lib);
}
#else
typedef void *library;
static library library_open(const char *name)
{
    library lib = dlopen(name, RTLD_LAZY);
    if (!lib)
        printf("dlopen: %s\n", dlerror());
    return lib;
}
static void *library_symbol(library lib, const char *name)
{
    return dlsym(lib, name);
}
static void library_close(library lib)
{
    dlclose(lib);
}
#endif

/* Resolves one name into *slot (a function pointer of any type). */
static int resolve(library lib, const char *name, void *slot)
{
    void *symbol = library_symbol(lib, name);
    memcpy(slot, &symbol, sizeof symbol);
    return symbol != NULL;
}

static int load_driver(library lib, canal_driver *d)
{
    static const char *const mandatory_names[] = {
        "CanalOpen",           "CanalClose",   "CanalGetLevel",   "CanalSend",
        "CanalDataAvailable",  "CanalReceive", "CanalGetStatus",  "CanalGetStatistics",
        "CanalSetFilter",      "CanalSetMask", "CanalGetVersion", "CanalGetDllVersion",
        "CanalGetVendorString"};
    void *const mandatory_slots[] = {&d->open,
                                     &d->close,
                                     &d->get_level,
                                     &d->send,
                                     &d->data_available,
                                     &d->receive,
                                     &d->get_status,
                                     &d->get_statistics,
                                     &d->set_filter,
                                     &d->set_mask,
                                     &d->get_version,
                                     &d->get_dll_version,
                                     &d->get_vendor_string};
    int ok = 1;
    for (size_t i = 0; i < sizeof mandatory_names / sizeof mandatory_names[0]; i++) {
        if (!resolve(lib, mandatory_names[i], mandatory_slots[i])) {
            fail("mandatory export %s is missing: a VSCP host unloads the driver",
                 mandatory_names[i]);
            ok = 0;
        }
    }
    d->generation = 2;
    if (!resolve(lib, "CanalBlockingSend", &d->blocking_send) ||
        !resolve(lib, "CanalBlockingReceive", &d->blocking_receive) ||
        !resolve(lib, "CanalGetDriverInfo", &d->get_driver_info)) {
        printf("Probably Generation 1 driver\n");
        d->generation = 1;
    }
    return ok;
}

/* ---- a small XML well-formedness check --------------------------------- */

#define XML_MAX_DEPTH 32
#define XML_MAX_NAME 64

typedef struct xml_reader {
    const char *p;
    char stack[XML_MAX_DEPTH][XML_MAX_NAME];
    int depth;
    int roots;
    char root_name[XML_MAX_NAME];
    const char *error;
} xml_reader;

static int xml_name_char(char c, int first)
{
    if (isalpha((unsigned char)c) || c == '_' || c == ':')
        return 1;
    return !first && (isdigit((unsigned char)c) || c == '-' || c == '.');
}

static void xml_skip_space(xml_reader *x)
{
    while (*x->p && isspace((unsigned char)*x->p))
        x->p++;
}

static int xml_read_name(xml_reader *x, char out[XML_MAX_NAME])
{
    size_t n = 0;
    if (!xml_name_char(*x->p, 1)) {
        x->error = "a name must start with a letter, '_' or ':'";
        return 0;
    }
    while (xml_name_char(*x->p, 0)) {
        if (n + 1 >= XML_MAX_NAME) {
            x->error = "name too long";
            return 0;
        }
        out[n++] = *x->p++;
    }
    out[n] = '\0';
    return 1;
}

/* At '&': accepts the five predefined entities and character references. */
static int xml_read_reference(xml_reader *x)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++) {
        size_t len = strlen(entities[i]);
        if (strncmp(x->p, entities[i], len) == 0) {
            x->p += len;
            return 1;
        }
    }
    if (x->p[1] == '#') {
        const char *q = x->p + 2;
        int hex = (*q == 'x');
        if (hex)
            q++;
        const char *digits = q;
        while (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))
            q++;
        if (q > digits && *q == ';') {
            x->p = q + 1;
            return 1;
        }
    }
    x->error = "bare '&' or unknown entity";
    return 0;
}

static int xml_skip_past(xml_reader *x, const char *terminator, const char *error)
{
    const char *end = strstr(x->p, terminator);
    if (!end) {
        x->error = error;
        return 0;
    }
    x->p = end + strlen(terminator);
    return 1;
}

static int xml_read_attributes(xml_reader *x)
{
    char seen[16][XML_MAX_NAME];
    int count = 0;
    for (;;) {
        const char *before = x->p;
        xml_skip_space(x);
        if (*x->p == '>' || *x->p == '/' || *x->p == '\0')
            return 1;
        if (x->p == before) {
            x->error = "attributes must be separated by white space";
            return 0;
        }
        char name[XML_MAX_NAME];
        if (!xml_read_name(x, name))
            return 0;
        for (int i = 0; i < count; i++) {
            if (strcmp(seen[i], name) == 0) {
                x->error = "attribute given twice";
                return 0;
            }
        }
        if (count < 16)
            strcpy(seen[count++], name);
        xml_skip_space(x);
        if (*x->p++ != '=') {
            x->error = "attribute without '='";
            return 0;
        }
        xml_skip_space(x);
        char quote = *x->p++;
        if (quote != '"' && quote != '\'') {
            x->error = "attribute value not quoted";
            return 0;
        }
        while (*x->p && *x->p != quote) {
            if (*x->p == '<') {
                x->error = "'<' inside an attribute value";
                return 0;
            }
            if (*x->p == '&') {
                if (!xml_read_reference(x))
                    return 0;
            } else {
                x->p++;
            }
        }
        if (*x->p++ != quote) {
            x->error = "unterminated attribute value";
            return 0;
        }
    }
}

/* At '<' of a start tag or an end tag. */
static int xml_read_tag(xml_reader *x)
{
    char name[XML_MAX_NAME];
    x->p++;
    if (*x->p == '/') {
        x->p++;
        if (!xml_read_name(x, name))
            return 0;
        xml_skip_space(x);
        if (*x->p++ != '>') {
            x->error = "malformed end tag";
            return 0;
        }
        if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0) {
            x->error = "end tag does not match the open element";
            return 0;
        }
        x->depth--;
        return 1;
    }
    if (!xml_read_name(x, name) || !xml_read_attributes(x))
        return 0;
    if (x->depth == 0) {
        if (++x->roots > 1) {
            x->error = "more than one root element";
            return 0;
        }
        strcpy(x->root_name, name);
    }
    if (*x->p == '/') {
        if (x->p[1] != '>') {
            x->error = "malformed empty-element tag";
            return 0;
        }
        x->p += 2;
        return 1;
    }
    if (*x->p++ != '>') {
        x->error = "unterminated start tag";
        return 0;
    }
    if (x->depth == XML_MAX_DEPTH) {
        x->error = "elements nested too deeply";
        return 0;
    }
    strcpy(x->stack[x->depth++], name);
    return 1;
}

static int xml_step(xml_reader *x)
{
    if (strncmp(x->p, "<?", 2) == 0)
        return xml_skip_past(x, "?>", "unterminated processing instruction");
    if (strncmp(x->p, "<!--", 4) == 0)
        return xml_skip_past(x, "-->", "unterminated comment");
    if (strncmp(x->p, "<![CDATA[", 9) == 0) {
        if (x->depth == 0) {
            x->error = "CDATA outside the root element";
            return 0;
        }
        return xml_skip_past(x, "]]>", "unterminated CDATA section");
    }
    if (*x->p == '<')
        return xml_read_tag(x);
    if (*x->p == '&') {
        if (x->depth == 0) {
            x->error = "text outside the root element";
            return 0;
        }
        return xml_read_reference(x);
    }
    if (x->depth == 0 && !isspace((unsigned char)*x->p)) {
        x->error = "text outside the root element";
        return 0;
    }
    x->p++;
    return 1;
}

/* NULL when text is a well-formed document whose one root is <config>. */
static const char *xml_check(const char *text)
{
    static xml_reader x;
    memset(&x, 0, sizeof x);
    x.p = text;
    while (*x.p) {
        if (!xml_step(&x))
            return x.error;
    }
    if (x.depth != 0)
        return "an element is never closed";
    if (x.roots != 1)
        return "no root element";
    if (strcmp(x.root_name, "config") != 0)
        return "the root element is not <config>";
    return NULL;
}

static void check_xml_checker(void)
{
    static const struct {
        const char *text;
        int well_formed;
    } cases[] = {
        {"<?xml version=\"1.0\"?><config><a x='1'>t &amp; u</a><b/></config>", 1},
        {"<config><!-- c --><![CDATA[<x>]]></config>\n", 1},
        {"<config><a></config></a>", 0},
        {"<config><a x=1/></config>", 0},
        {"<config></config><config/>", 0},
        {"<other/>", 0},
        {"<config>a & b</config>", 0},
        {"<config>", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int well_formed = xml_check(cases[i].text) == NULL;
        if (well_formed != cases[i].well_formed)
            fail("XML checker self-test %u misjudged: %s", (unsigned)i, cases[i].text);
    }
}

/* ---- the 10,000-frame exchange ----------------------------------------- */

/* Frame number i: a mix of standard, extended and RTR frames of every dlc. */
static void make_frame(unsigned i, client_msg *m)
{
    memset(m, 0, sizeof *m);
    m->sizeData = (unsigned char)(i % 9);
    if (i % 3 == 1) {
        m->flags = CLIENT_IDFLAG_EXTENDED;
        m->id = (0x12340000UL + i) & 0x1FFFFFFFUL;
    } else {
        m->id = i & 0x7FFUL;
    }
    if (i % 10 == 9) {
        m->flags |= CLIENT_IDFLAG_RTR;
        return;
    }
    for (unsigned k = 0; k < m->sizeData; k++)
        m->data[k] = (unsigned char)(i * 7 + k * 31 + (i >> 8));
}

static int same_frame(const client_msg *got, const client_msg *want)
{
    if ((got->flags & (CLIENT_IDFLAG_EXTENDED | CLIENT_IDFLAG_RTR | CLIENT_IDFLAG_STATUS)) !=
            want->flags ||
        got->id != want->id || got->sizeData != want->sizeData)
        return 0;
    if (want->flags & CLIENT_IDFLAG_RTR)
        return 1;
    return memcmp(got->data, want->data, want->sizeData) == 0;
}

typedef struct sender_job {
    const canal_driver *driver;
    long handle;
    int sent;
    int first_error;
    unsigned first_error_frame;
} sender_job;

static void run_sender(sender_job *job)
{
    for (unsigned i = 0; i < FRAME_COUNT; i++) {
        client_msg m;
        make_frame(i, &m);
        int rc = job->driver->blocking_send(job->handle, &m, SEND_TIMEOUT_MS);
        if (rc != CLIENT_ERROR_SUCCESS) {
            /* vscpd drops a frame it cannot send; the test counts it. */
            if (!job->first_error) {
                job->first_error = rc;
                job->first_error_frame = i;
            }
            continue;
        }
        job->sent++;
    }
}

#if defined(_WIN32)
static DWORD WINAPI sender_thread(LPVOID arg)
{
    run_sender(arg);
    return 0;
}
#else
static void *sender_thread(void *arg)
{
    run_sender(arg);
    return NULL;
}
#endif

static void print_frame(const char *label, const client_msg *m)
{
    printf("  %s flags=0x%lx id=0x%lx dlc=%u data=", label, m->flags, m->id, m->sizeData);
    for (int k = 0; k < 8; k++)
        printf("%02x", m->data[k]);
    printf("\n");
}

/* Polls like vscpd's receive loop until every frame is in or time runs out. */
static unsigned receive_all(const canal_driver *d, long handle, unsigned *timeouts)
{
    unsigned received = 0;
    double deadline = now_s() + TRANSFER_DEADLINE_S;
    while (received < FRAME_COUNT && now_s() < deadline) {
        client_msg got;
        memset(&got, 0xA5, sizeof got);
        int rc = d->blocking_receive(handle, &got, POLL_TIMEOUT_MS);
        if (rc == CLIENT_ERROR_TIMEOUT || rc == CLIENT_ERROR_FIFO_EMPTY) {
            (*timeouts)++;
            continue;
        }
        if (rc != CLIENT_ERROR_SUCCESS) {
            fail("CanalBlockingReceive returned %d after %u frames", rc, received);
            break;
        }
        if (got.flags & CLIENT_IDFLAG_STATUS) {
            fail("status message 0x%lx delivered although the open flags were 0", got.id);
            continue;
        }
        client_msg want;
        make_frame(received, &want);
        if (!same_frame(&got, &want)) {
            fail("frame %u differs (lost, reordered or corrupted)", received);
            print_frame("want", &want);
            print_frame("got ", &got);
            break;
        }
        received++;
    }
    return received;
}

static void exchange_frames(const canal_driver *d)
{
    long tx = d->open("VIRTUAL0;500", 0);
    long rx = d->open("VIRTUAL1;500", 0);
    if (tx <= 0 || rx <= 0) {
        fail("CanalOpen of VIRTUAL0/VIRTUAL1 returned %ld/%ld", tx, rx);
        if (tx > 0)
            d->close(tx);
        if (rx > 0)
            d->close(rx);
        return;
    }
    unsigned long level = d->get_level(rx);
    if ((unsigned char)level != CLIENT_LEVEL_STANDARD)
        fail("CanalGetLevel returned %lu, a level-1 host needs 1", level);

    sender_job job = {.driver = d, .handle = tx};
    double start = now_s();
    unsigned timeouts = 0, received = 0;
#if defined(_WIN32)
    HANDLE thread = CreateThread(NULL, 0, sender_thread, &job, 0, NULL);
    if (!thread) {
        fail("CreateThread failed");
    } else {
        received = receive_all(d, rx, &timeouts);
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
    }
#else
    pthread_t thread;
    if (pthread_create(&thread, NULL, sender_thread, &job) != 0) {
        fail("pthread_create failed");
    } else {
        received = receive_all(d, rx, &timeouts);
        pthread_join(thread, NULL);
    }
#endif
    double elapsed = now_s() - start;
    printf("sent %d, received %u of %d in order in %.3f s (%.0f frames/s), %u empty polls\n",
           job.sent, received, FRAME_COUNT, elapsed, received / (elapsed > 0 ? elapsed : 1),
           timeouts);
    if (job.sent != FRAME_COUNT)
        fail("CanalBlockingSend(h, &m, %d) failed %d times, first with %d at frame %u",
             SEND_TIMEOUT_MS, FRAME_COUNT - job.sent, job.first_error, job.first_error_frame);
    if (received != FRAME_COUNT)
        fail("received %u of %d frames", received, FRAME_COUNT);

    client_statistics stats;
    memset(&stats, 0, sizeof stats);
    if (d->get_statistics(rx, &stats) == CLIENT_ERROR_SUCCESS)
        printf("receiver statistics: %lu frames, %lu overruns\n", stats.cntReceiveFrames,
               stats.cntOverruns);

    client_msg extra;
    int rc = d->receive(rx, &extra);
    if (rc == CLIENT_ERROR_SUCCESS)
        fail("a frame arrived beyond the %d sent", FRAME_COUNT);
    if (d->close(tx) != CLIENT_ERROR_SUCCESS || d->close(rx) != CLIENT_ERROR_SUCCESS)
        fail("CanalClose did not return success");
}

int main(int argc, char **argv)
{
#if defined(_WIN32)
    const char *name = "usb2can.dll"; /* by name: found next to the program */
    (void)argc;
    (void)argv;
#else
    const char *name = argc > 1 ? argv[1] : "libusb2can.so";
#endif
    setvbuf(stdout, NULL, _IONBF, 0);
    check_xml_checker();

    library lib = library_open(name);
    if (!lib) {
        fail("cannot load %s", name);
        return 1;
    }
    canal_driver driver;
    memset(&driver, 0, sizeof driver);
    if (!load_driver(lib, &driver)) {
        library_close(lib);
        return 1;
    }
    if (driver.generation != 2)
        fail("the driver lacks a generation-2 export; VSCP would poll it");

    if (driver.get_driver_info) {
        const char *info = driver.get_driver_info();
        const char *why = info ? xml_check(info) : "CanalGetDriverInfo returned NULL";
        if (why)
            fail("driver info is not usable XML: %s", why);
        else
            printf("CanalGetDriverInfo: %u bytes of well-formed XML, root <config>\n",
                   (unsigned)strlen(info));
    }
    const char *vendor = driver.get_vendor_string();
    printf("CanalGetVendorString: %s\n", vendor ? vendor : "(NULL)");
    if (!vendor)
        fail("CanalGetVendorString returned NULL");

    if (driver.blocking_send && driver.blocking_receive)
        exchange_frames(&driver);

    library_close(lib);
    printf("%s\n", failures ? "vscp_like_client: FAILED" : "vscp_like_client: ok");
    return failures ? 1 : 0;
}
