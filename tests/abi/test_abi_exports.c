/*
 * Loads the built library by name, the way CANAL hosts do, resolves every
 * export by its plain name and, on 32-bit Windows, calls each through a
 * __stdcall pointer while measuring the stack pointer: a callee that pops
 * the wrong number of bytes corrupts every stdcall client (python-can's
 * windll, VSCP's loader).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"

#if defined(_WIN32)
#include <windows.h>
typedef HMODULE lib_handle;
static lib_handle lib_open(const char *path)
{
    return LoadLibraryA(path);
}
static void *lib_sym(lib_handle h, const char *name)
{
    return (void *)GetProcAddress(h, name);
}
static void lib_close(lib_handle h)
{
    FreeLibrary(h);
}
static const char *library_path = "usb2can.dll"; /* by name, as clients do */
#else
#include <dlfcn.h>
typedef void *lib_handle;
static lib_handle lib_open(const char *path)
{
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}
static void *lib_sym(lib_handle h, const char *name)
{
    return dlsym(h, name);
}
static void lib_close(lib_handle h)
{
    dlclose(h);
}
static const char *library_path = "libusb2can.so"; /* replaced by argv[1] */
#endif

struct export_case {
    const char *name;
    unsigned arg_bytes; /* stdcall bytes the callee must pop on x86 */
};

static const struct export_case exports[] = {
    {"CanalOpen", 8},
    {"CanalClose", 4},
    {"CanalGetLevel", 4},
    {"CanalSend", 8},
    {"CanalBlockingSend", 12},
    {"CanalReceive", 8},
    {"CanalBlockingReceive", 12},
    {"CanalDataAvailable", 4},
    {"CanalGetStatus", 8},
    {"CanalGetStatistics", 8},
    {"CanalSetFilter", 8},
    {"CanalSetMask", 8},
    {"CanalSetBaudrate", 8},
    {"CanalGetVersion", 0},
    {"CanalGetDllVersion", 0},
    {"CanalGetVendorString", 0},
    {"CanalGetReceiveHandle", 4},
    {"CanalGetDriverInfo", 0},
    {"CanalSetFilters", 12},
    {"Usb2canGetLastError", 0},
    {"Usb2canGetLastErrorText", 8},
    {"Usb2canListAdapters", 8},
    {"Usb2canGetEnvironment", 8},
    {"Usb2canScanBitrate", 20},
    {"Usb2canListAdaptersEx", 8},
};
#define EXPORT_COUNT (sizeof exports / sizeof exports[0])

/* The names and order of canal/usb2can.def. */
static const char *const def_names[] = {
#define U2C_DEF_EXPORT(name, ordinal) #name,
#include "def_exports.h"
#undef U2C_DEF_EXPORT
};

/* The table above gives each export's stack bytes: it must name exactly the
 * .def's exports, in its order, so a new export cannot go unchecked. */
static void test_table_covers_the_def(void **state)
{
    (void)state;
    assert_int_equal(EXPORT_COUNT, sizeof def_names / sizeof def_names[0]);
    for (size_t i = 0; i < EXPORT_COUNT; i++)
        assert_string_equal(exports[i].name, def_names[i]);
}

static void test_every_export_resolves_by_plain_name(void **state)
{
    (void)state;
    lib_handle lib = lib_open(library_path);
    assert_non_null(lib);
    for (size_t i = 0; i < EXPORT_COUNT; i++) {
        void *sym = lib_sym(lib, exports[i].name);
        if (!sym)
            fail_msg("export %s not found by its plain name", exports[i].name);
    }
    lib_close(lib);
}

#if defined(_WIN32) && !defined(_WIN64)
/*
 * Pushes `words` stack arguments, calls fn and returns how far the stack
 * pointer moved across the call (0 when the callee popped exactly what was
 * pushed). Written in assembly so the compiler cannot repair the stack.
 */
int stack_delta(void *fn, unsigned words, const uint32_t *args);
__asm__(".text\n"
        ".globl _stack_delta\n"
        "_stack_delta:\n"
        "  pushl %ebx\n"
        "  pushl %esi\n"
        "  pushl %edi\n"
        "  pushl %ebp\n"
        "  movl 20(%esp), %ebx\n" /* fn */
        "  movl 24(%esp), %ecx\n" /* words */
        "  movl 28(%esp), %esi\n" /* args */
        "  movl %esp, %edi\n"
        "1:\n"
        "  testl %ecx, %ecx\n"
        "  jz 2f\n"
        "  pushl -4(%esi,%ecx,4)\n"
        "  decl %ecx\n"
        "  jmp 1b\n"
        "2:\n"
        "  call *%ebx\n"
        "  movl %esp, %eax\n"
        "  subl %edi, %eax\n"
        "  movl %edi, %esp\n"
        "  popl %ebp\n"
        "  popl %edi\n"
        "  popl %esi\n"
        "  popl %ebx\n"
        "  ret\n");

static void test_stdcall_stack_balance(void **state)
{
    (void)state;
    lib_handle lib = lib_open(library_path);
    assert_non_null(lib);
    /* Harmless arguments: an invalid handle, valid buffers, short timeouts. */
    static canalMsg msg;
    static canalStatus status;
    static char text[256];
    static const char setup[] = "NOSUCHSERIAL;500";
    uint32_t buffer = (uint32_t)(uintptr_t)text;
    for (size_t i = 0; i < EXPORT_COUNT; i++) {
        uint32_t args[5] = {0, buffer, 1, 0, 0};
        if (strcmp(exports[i].name, "CanalOpen") == 0) {
            args[0] = (uint32_t)(uintptr_t)setup;
            args[1] = 8;
        } else if (strstr(exports[i].name, "Status")) {
            args[1] = (uint32_t)(uintptr_t)&status;
        } else if (strstr(exports[i].name, "Send") || strstr(exports[i].name, "Receive")) {
            args[1] = (uint32_t)(uintptr_t)&msg;
        } else if (strcmp(exports[i].name, "CanalSetFilters") == 0) {
            args[1] = 0;
            args[2] = 0;
        } else if (strcmp(exports[i].name, "Usb2canGetLastErrorText") == 0 ||
                   strcmp(exports[i].name, "Usb2canGetEnvironment") == 0) {
            args[0] = buffer;
            args[1] = sizeof text;
        } else if (strcmp(exports[i].name, "Usb2canListAdapters") == 0 ||
                   strcmp(exports[i].name, "Usb2canListAdaptersEx") == 0) {
            args[1] = 0; /* max 0: count only */
        } else if (strcmp(exports[i].name, "Usb2canScanBitrate") == 0) {
            args[1] = 0; /* setup NULL: refused at once */
        }
        void *fn = lib_sym(lib, exports[i].name);
        assert_non_null(fn);
        int delta = stack_delta(fn, exports[i].arg_bytes / 4, args);
        if (delta != 0)
            fail_msg("%s: stack pointer moved by %d bytes across a stdcall call "
                     "(callee must pop %u bytes)",
                     exports[i].name, delta, exports[i].arg_bytes);
    }
    lib_close(lib);
}
#endif

int main(int argc, char **argv)
{
    if (argc > 1)
        library_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_the_def),
        cmocka_unit_test(test_every_export_resolves_by_plain_name),
#if defined(_WIN32) && !defined(_WIN64)
        cmocka_unit_test(test_stdcall_stack_balance),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
