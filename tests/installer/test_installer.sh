#!/usr/bin/env bash
# shellcheck disable=SC2154 # the options are set by u2c_test_args (verdict.sh)
# The Windows installer under Wine, in fresh private prefixes (removed at the
# end): what a user gets from a silent install, and that nothing is left after
# a silent uninstall.
#
#   test_installer.sh --setup SETUP.exe --version X.Y.Z --x64 BUILD --x86 BUILD --work DIR
#
# Scenarios, each checked step by step (every step prints PASS or FAIL; a
# failed step does not stop the others, the exit status is 1 if any failed):
#   fresh     install /S on 64-bit Windows; the files in System32, SysWOW64 and
#             Program Files\usb2can, byte for byte; the uninstall entry; 32- and
#             64-bit clients that find usb2can.dll by name (LoadLibrary, and the
#             installed import libraries) exchange frames VIRTUAL0 <-> VIRTUAL1;
#             usb2can-cli list; uninstall /S leaves the prefix as it was.
#   upgrade   a fake older version, then this one while a program holds the DLL
#             (exit 3010, swapped at restart), then this one again: always one
#             uninstall entry; uninstall leaves the prefix as it was.
#   foreign   a usb2can.dll that is not ours is kept, through an upgrade, and
#             put back on uninstall; a file the user added to the install
#             folder survives uninstall.
#   foreign in use  a foreign System32\usb2can.dll kept at install; uninstall
#             while a program holds ours: exit 3010, the backup stays, the
#             foreign DLL is staged and renamed into place at the restart.
#   look-alike  a foreign System32\usb2can.dll whose version resource says
#             ProductName "USB2CAN", CompanyName "8devices" (ours differs only
#             in case) is kept and put back on uninstall.
#   win32     install on 32-bit Windows: the 32-bit DLL in System32.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=verdict.sh
. "$root/tests/installer/verdict.sh"
u2c_test_args "setup version x64 x86 work" "$@"

export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
prefixes=()
cleanup() {
  local p
  for p in "${prefixes[@]}"; do
    WINEPREFIX=$p wineserver -k >/dev/null 2>&1
    if [ "${U2C_KEEP_PREFIX:-0}" = 1 ]; then echo "kept $p"; else rm -rf "$p"; fi
  done
}
trap cleanup EXIT

# new_prefix DIR [win32]: a fresh prefix, made current.
new_prefix() {
  WINEPREFIX=$1 wineserver -k >/dev/null 2>&1
  rm -rf "$1"
  mkdir -p "$1"
  prefixes+=("$1")
  export WINEPREFIX=$1
  if [ "${2:-}" = win32 ]; then export WINEARCH=win32; else unset WINEARCH; fi
  timeout 300 wineboot -i >/dev/null 2>&1
  timeout 120 wineserver -w
  c=$WINEPREFIX/drive_c
  pf=$c/Program\ Files/usb2can
  [ -f "$WINEPREFIX/system.reg" ]
}

# Every path under drive_c except the temp folders (the uninstaller runs from
# a copy in %TEMP% that Windows deletes at the next restart) and the
# precompiled .inf files Wine's device setup writes by itself at any time
# (windows/inf/*.pnf, seen appearing during a run: input.pnf, winehid.pnf).
snapshot() {
  (cd "$c" && find . \( -path './users/*/Temp' -o -path './windows/temp' \) -prune -o \
    ! -path './windows/inf/*.pnf' -print | LC_ALL=C sort)
}

uninst_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\usb2can'
# reg_value VIEW NAME: the data of one value of the uninstall key.
reg_value() {
  timeout 60 wine reg query "$uninst_key" /v "$2" ${1:+/reg:$1} 2>/dev/null | tr -d '\r' |
    sed -n "s/^    $2    REG_[A-Z_]*    //p"
}
reg_key_exists() { timeout 60 wine reg query "$uninst_key" ${1:+/reg:$1} >/dev/null 2>&1; }
# How many uninstall entries are called usb2can, in both registry views.
uninst_entries() {
  local view n=0
  for view in "$@"; do
    n=$((n + $(timeout 60 wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' \
      ${view:+/reg:$view} 2>/dev/null | tr -d '\r' | grep -ci '\\Uninstall\\usb2can$')))
  done
  echo "$n"
}

pe_format() { x86_64-w64-mingw32-objdump -f "$1" 2>/dev/null | sed -n 's/.*file format //p'; }
# is_dll FILE FORMAT FILE_WORDS: objdump's format and file(1)'s description.
is_dll() {
  [ -f "$1" ] && [ "$(pe_format "$1")" = "$2" ] || return 1
  if command -v file >/dev/null; then file -b "$1" | grep -q "^$3"; fi
}

run_setup() { timeout 300 wine "$@"; }
# Exit code 3010 (ERROR_SUCCESS_REBOOT_REQUIRED); wine hands on only its low 8 bits.
is_restart_needed() { [ "$1" -eq 3010 ] || [ "$1" -eq $((3010 & 255)) ]; }
run_uninstaller() {
  timeout 300 wine "C:\\Program Files\\usb2can\\uninstall.exe" /S || return 1
  # It re-launches itself from %TEMP% and returns: wait for every process.
  timeout 120 wineserver -w
}

# run_client EXE ARGS...: from the client's own folder, which has no usb2can.dll.
run_client() {
  local exe=$1
  shift
  if [ -e "$(dirname "$exe")/usb2can.dll" ]; then
    echo "$(dirname "$exe") contains a usb2can.dll: the test would prove nothing"
    return 1
  fi
  (cd "$(dirname "$exe")" && timeout 60 wine "$exe" "$@")
}

# ---------------------------------------------------------------------------
# What the installer must deliver, from the builds and the sources.

stripped=$work/stripped
rm -rf "$work/clients" "$stripped"
mkdir -p "$work/clients/x64" "$work/clients/x86" "$stripped/x64" "$stripped/x86"

if [ ! -f "$setup" ]; then
  fail "the installer $setup exists (build the windows-x86 preset, then windows-x64)"
  finish
fi
for dll in "$x64/usb2can.dll" "$x86/usb2can.dll"; do
  if [ "$dll" -nt "$setup" ]; then
    fail "$setup is older than $dll: rebuild the windows-x64 preset"
    finish
  fi
done
pass "the installer $setup exists and is newer than both DLLs"

# The installer ships the binaries without debug sections, link time kept,
# as the packaging library strips them.
# shellcheck source=../../scripts/lib/package.sh
. "$root/scripts/lib/package.sh"
u2c_strip_pe "$x64/usb2can.dll" "$stripped/x64/usb2can.dll"
u2c_strip_pe "$x86/usb2can.dll" "$stripped/x86/usb2can.dll"
declare -A tree_source=(
  [LICENSE]=$root/LICENSE
  [README.md]=$root/README.md
  [example_python_can.py]=$root/installer/example_python_can.py
  [include/canal.h]=$root/include/canal.h
  [include/usb2can.h]=$x64/generated/include/usb2can.h
  [lib/x64/usb2can.lib]=$x64/implib/usb2can.lib
  [lib/x64/libusb2can.dll.a]=$x64/implib/libusb2can.dll.a
  [lib/x86/usb2can.lib]=$x86/implib/usb2can.lib
  [lib/x86/libusb2can.dll.a]=$x86/implib/libusb2can.dll.a
)
for f in "$root"/docs/*.md; do tree_source[docs/$(basename "$f")]=$f; done
# The CLI is part of the product: both builds must have it.
for arch in x64 x86; do
  build=$x64
  [ $arch = x86 ] && build=$x86
  if [ ! -f "$build/usb2can-cli.exe" ]; then
    fail "$build/usb2can-cli.exe exists (build the windows-$arch preset)"
    finish
  fi
  u2c_strip_pe "$build/usb2can-cli.exe" "$stripped/$arch/usb2can-cli.exe"
  tree_source[$arch/usb2can-cli.exe]=$stripped/$arch/usb2can-cli.exe
done
expected_tree=$( (printf '%s\n' "${!tree_source[@]}" uninstall.exe
  printf '%s\n' "${!tree_source[@]}" | sed -n 's|/[^/]*$||p'
  printf '%s\n' "${!tree_source[@]}" | sed -n 's|/[^/]*/[^/]*$||p') | LC_ALL=C sort -u)

for arch in x64 x86; do
  build=$x64
  [ $arch = x86 ] && build=$x86
  if [ -f "$build/installer_loadlib_client.exe" ]; then
    cp "$build/installer_loadlib_client.exe" "$work/clients/$arch/"
  fi
done

# check_program_files: exactly the expected files, each equal to its source.
check_program_files() {
  local actual rel ok=0
  actual=$(cd "$pf" 2>/dev/null && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
  if [ "$actual" != "$expected_tree" ]; then
    diff <(printf '%s\n' "$expected_tree") <(printf '%s\n' "$actual") | sed 's/^/    /'
    ok=1
  fi
  for rel in "${!tree_source[@]}"; do
    if ! cmp -s "${tree_source[$rel]}" "$pf/$rel"; then
      echo "    Program Files\\usb2can\\$rel differs from ${tree_source[$rel]}"
      ok=1
    fi
  done
  return $ok
}

check_uninstall_entry() { # VIEW OTHER_VIEW EXPECTED_VERSION
  local ok=0 v
  v=$(reg_value "$1" DisplayVersion)
  [ "$v" = "$3" ] || { echo "    DisplayVersion '$v', expected '$3'"; ok=1; }
  [ "$(reg_value "$1" DisplayName)" = usb2can ] || { echo "    DisplayName is not usb2can"; ok=1; }
  [ "$(reg_value "$1" InstallLocation)" = 'C:\Program Files\usb2can' ] ||
    { echo "    InstallLocation is '$(reg_value "$1" InstallLocation)'"; ok=1; }
  [ "$(reg_value "$1" UninstallString)" = '"C:\Program Files\usb2can\uninstall.exe"' ] ||
    { echo "    UninstallString is '$(reg_value "$1" UninstallString)'"; ok=1; }
  [ "$(reg_value "$1" QuietUninstallString)" = '"C:\Program Files\usb2can\uninstall.exe" /S' ] ||
    { echo "    QuietUninstallString is '$(reg_value "$1" QuietUninstallString)'"; ok=1; }
  if [ -n "$2" ] && reg_key_exists "$2"; then
    echo "    an entry exists in the ${2}-bit registry view too"
    ok=1
  fi
  return $ok
}

check_clients() { # ARCHES...
  local arch exe
  for arch in "$@"; do
    exe=$work/clients/$arch/installer_loadlib_client.exe
    if [ ! -f "$exe" ]; then
      fail "$arch LoadLibrary client: $exe missing (build the windows-${arch/x86/x86} preset)"
      continue
    fi
    check "$arch client: LoadLibrary(\"usb2can.dll\") by name, CanalOpen VIRTUAL0/VIRTUAL1, frames both ways" \
      run_client "$exe" exchange "$version"
  done
}

# C users: compile against the installed headers and import libraries.
check_import_libraries() { # ARCHES...
  local arch gcc lib dir
  for arch in "$@"; do
    gcc=x86_64-w64-mingw32-gcc
    [ $arch = x86 ] && gcc=i686-w64-mingw32-gcc
    for lib in libusb2can.dll.a usb2can.lib; do
      dir=$work/clients/implib-$arch-${lib%%.*}
      mkdir -p "$dir"
      if ! "$gcc" -std=c11 -Wall -Wextra -Werror -O2 -static -DU2C_BIND_IMPORT_LIBRARY \
        -I"$pf/include" "$root/tests/installer/loadlib_client.c" "$pf/lib/$arch/$lib" \
        -o "$dir/client.exe"; then
        fail "$arch client links with the installed lib\\$arch\\$lib"
        continue
      fi
      pass "$arch client links with the installed lib\\$arch\\$lib"
      check "$arch client through lib\\$arch\\$lib: frames both ways" \
        run_client "$dir/client.exe" exchange "$version"
    done
  done
}

check_cli() { # ARCHES...
  local arch out
  for arch in "$@"; do
    if [ ! -f "$pf/$arch/usb2can-cli.exe" ]; then
      fail "usb2can-cli list ($arch): Program Files\\usb2can\\$arch\\usb2can-cli.exe is not installed (no usb2can-cli in the windows-$arch build)"
      continue
    fi
    out=$(cd "$work" && timeout 60 wine "C:\\Program Files\\usb2can\\$arch\\usb2can-cli.exe" list 2>&1)
    local rc=$?
    printf '%s\n' "$out" | sed 's/^/    /'
    if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q VIRTUAL0; then
      pass "usb2can-cli list ($arch) from Program Files lists VIRTUAL0"
    else
      fail "usb2can-cli list ($arch) from Program Files: exit $rc, VIRTUAL0 listed: $(printf '%s' "$out" | grep -c VIRTUAL0)"
    fi
  done
}

check_nothing_left() { # BEFORE_SNAPSHOT VIEWS...
  local before=$1 after
  shift
  after=$(snapshot)
  if [ "$before" = "$after" ]; then
    pass "uninstall: drive_c is exactly as before the install"
  else
    fail "uninstall: drive_c differs from before the install"
    diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/    /'
  fi
  check "uninstall: no usb2can entry left in Add/Remove Programs" [ "$(uninst_entries "$@")" = 0 ]
}

# hold_system_dll LOG: a 64-bit program loads System32\usb2can.dll and keeps
# it loaded (for 10 minutes, or until wineserver -k); its pid in $holder.
hold_system_dll() {
  local log=$1
  (cd "$work/clients/x64" && exec wine ./installer_loadlib_client.exe hold 600000 >"$log" 2>&1) &
  holder=$!
  for _ in $(seq 100); do
    grep -q holding "$log" 2>/dev/null && break
    sleep 0.2
  done
  check "a 64-bit program holds System32\\usb2can.dll" grep -q holding "$log"
}

# restart_windows: ends every program (the holder too) and runs what Windows
# runs at a restart: the renames and deletions scheduled for it.
restart_windows() {
  timeout 60 wineserver -k
  wait "$holder" 2>/dev/null
  timeout 300 wineboot -r >/dev/null 2>&1
  timeout 120 wineserver -w
}

# make_lookalike_dll OUT: a 64-bit DLL with a version resource naming
# ProductName "USB2CAN" and CompanyName "8devices".
make_lookalike_dll() {
    local d=$work/lookalike
    rm -rf "$d" && mkdir -p "$d"
    cat >"$d/version.rc" <<'RC'
1 VERSIONINFO
FILEVERSION 1,0,0,0
PRODUCTVERSION 1,0,0,0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "8devices"
      VALUE "ProductName", "USB2CAN"
      VALUE "FileVersion", "1.0.0.0"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
RC
    printf 'int lookalike(void) { return 0; }\n' >"$d/lookalike.c"
    x86_64-w64-mingw32-windres "$d/version.rc" -O coff -o "$d/version.o" &&
        x86_64-w64-mingw32-gcc -shared -o "$1" "$d/lookalike.c" "$d/version.o"
}

python_syntax_ok() { python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$1"; }

# ---------------------------------------------------------------------------
echo "=== fresh: install, use and uninstall on 64-bit Windows"
check "a fresh 64-bit Wine prefix" new_prefix "$work/prefix"
before=$(snapshot)
run_setup "$setup" /S
check "silent install exits 0" [ $? -eq 0 ]
check "System32\\usb2can.dll is the 64-bit DLL (PE32+), byte for byte" \
  eval 'is_dll "$c/windows/system32/usb2can.dll" pei-x86-64 "PE32+ executable (DLL)" &&
        cmp -s "$stripped/x64/usb2can.dll" "$c/windows/system32/usb2can.dll"'
check "SysWOW64\\usb2can.dll is the 32-bit DLL (PE32), byte for byte" \
  eval 'is_dll "$c/windows/syswow64/usb2can.dll" pei-i386 "PE32 executable (DLL)" &&
        cmp -s "$stripped/x86/usb2can.dll" "$c/windows/syswow64/usb2can.dll"'
check "Program Files\\usb2can holds exactly the expected files" check_program_files
check "the installed example_python_can.py is valid Python" python_syntax_ok "$pf/example_python_can.py"
check "uninstall entry in the 64-bit registry view, none in the 32-bit view" \
  check_uninstall_entry 64 32 "$version"
check_clients x64 x86
check_import_libraries x64 x86
check_cli x64 x86
run_uninstaller
check "silent uninstall exits 0" [ $? -eq 0 ]
check_nothing_left "$before" 64 32

echo "=== upgrade: older version, then this one with the DLL in use, then this one again"
old_dir=$work/old
rm -rf "$old_dir"
if bash "$root/scripts/make-installer.sh" --x64 "$x64" --x86 "$x86" --out "$old_dir" \
  --version 0.9.0 --force >/dev/null; then
  pass "a fake older installer (0.9.0) builds"
else
  fail "a fake older installer (0.9.0) builds"
fi
before=$(snapshot)
run_setup "$old_dir/usb2can-setup-0.9.0.exe" /S
check "0.9.0 installs" [ $? -eq 0 ]
check "0.9.0 is registered" [ "$(reg_value 64 DisplayVersion)" = 0.9.0 ]
hold_system_dll "$work/holder.log"
run_setup "$setup" /S
rc=$?
check "installing $version over 0.9.0 with the DLL in use exits 3010 (restart needed), got $rc" \
  is_restart_needed $rc
check "the new DLL is staged as System32\\usb2can.dll.new" \
  cmp -s "$stripped/x64/usb2can.dll" "$c/windows/system32/usb2can.dll.new"
check "one uninstall entry, for $version" eval '[ "$(uninst_entries 64 32)" = 1 ] &&
  [ "$(reg_value 64 DisplayVersion)" = "$version" ]'
check "Program Files\\usb2can holds exactly the expected files after the upgrade" check_program_files
restart_windows
check "after a restart System32\\usb2can.dll is the new DLL, no .new left" \
  eval 'cmp -s "$stripped/x64/usb2can.dll" "$c/windows/system32/usb2can.dll" &&
        [ ! -e "$c/windows/system32/usb2can.dll.new" ]'
run_setup "$setup" /S
check "installing $version again exits 0" [ $? -eq 0 ]
check "still one uninstall entry, for $version" eval '[ "$(uninst_entries 64 32)" = 1 ] &&
  [ "$(reg_value 64 DisplayVersion)" = "$version" ]'
check "Program Files\\usb2can holds exactly the expected files after a reinstall" check_program_files
check_clients x64
run_uninstaller
check "silent uninstall exits 0" [ $? -eq 0 ]
check_nothing_left "$before" 64 32

echo "=== foreign: someone else's usb2can.dll and the user's own files"
printf 'MZ: not usb2can, a stand-in for the vendor DLL\n' >"$c/windows/syswow64/usb2can.dll"
cp "$c/windows/syswow64/usb2can.dll" "$work/foreign.dll"
before=$(snapshot)
run_setup "$old_dir/usb2can-setup-0.9.0.exe" /S
check "installing 0.9.0 over a foreign SysWOW64\\usb2can.dll exits 0" [ $? -eq 0 ]
check "SysWOW64\\usb2can.dll is now ours, the foreign one kept in Program Files\\usb2can\\backup\\x86" \
  eval 'cmp -s "$stripped/x86/usb2can.dll" "$c/windows/syswow64/usb2can.dll" &&
        cmp -s "$work/foreign.dll" "$pf/backup/x86/usb2can.dll"'
run_setup "$setup" /S
check "upgrading to $version exits 0" [ $? -eq 0 ]
check "after the upgrade SysWOW64\\usb2can.dll is ours and the foreign one still kept" \
  eval 'cmp -s "$stripped/x86/usb2can.dll" "$c/windows/syswow64/usb2can.dll" &&
        cmp -s "$work/foreign.dll" "$pf/backup/x86/usb2can.dll" &&
        [ ! -e "$pf/backup/x64" ]'
echo "my notes" >"$pf/notes.txt"
run_uninstaller
check "silent uninstall exits 0" [ $? -eq 0 ]
check "uninstall put the foreign SysWOW64\\usb2can.dll back" cmp -s "$work/foreign.dll" "$c/windows/syswow64/usb2can.dll"
check "uninstall kept the user's notes.txt and removed everything else" \
  eval '[ "$(cd "$pf" && find . -mindepth 1)" = ./notes.txt ]'
rm -rf "$pf"
check_nothing_left "$before" 64 32

echo "=== foreign in use: the foreign DLL comes back at the restart, its backup is kept"
# Installed to a folder without spaces: the uninstaller takes its folder as
# _?=DIR, which must be the last argument and must not be quoted, and runs
# in place then, so its exit code is the real one.
inuse_dir='C:\u2c' inuse=$c/u2c
printf 'MZ: not usb2can, a stand-in for the vendor DLL (64-bit)\n' >"$c/windows/system32/usb2can.dll"
cp "$c/windows/system32/usb2can.dll" "$work/foreign64.dll"
before=$(snapshot)
run_setup "$setup" /S "/D=$inuse_dir"
check "installing over a foreign System32\\usb2can.dll exits 0" [ $? -eq 0 ]
check "the foreign System32\\usb2can.dll is kept in $inuse_dir\\backup\\x64" \
  cmp -s "$work/foreign64.dll" "$inuse/backup/x64/usb2can.dll"
hold_system_dll "$work/holder-foreign.log"
timeout 300 wine "$inuse_dir\\uninstall.exe" /S "_?=$inuse_dir"
rc=$?
check "uninstalling while the DLL is in use exits 3010 (restart needed), got $rc" is_restart_needed $rc
check "the backup is kept while the foreign DLL is not back" \
  cmp -s "$work/foreign64.dll" "$inuse/backup/x64/usb2can.dll"
check "the foreign DLL is staged as System32\\usb2can.dll.restore" \
  cmp -s "$work/foreign64.dll" "$c/windows/system32/usb2can.dll.restore"
check "a rename at the restart is scheduled for it" eval \
  'timeout 60 wine reg query "HKLM\\System\\CurrentControlSet\\Control\\Session Manager" \
    /v PendingFileRenameOperations 2>/dev/null | tr -d "\r" | grep -qi "usb2can.dll.restore"'
restart_windows
check "after a restart System32\\usb2can.dll is the foreign DLL again, no .restore left" \
  eval 'cmp -s "$work/foreign64.dll" "$c/windows/system32/usb2can.dll" &&
        [ ! -e "$c/windows/system32/usb2can.dll.restore" ]'
rm -rf "$inuse"
check_nothing_left "$before" 64 32
rm -f "$c/windows/system32/usb2can.dll"

echo "=== look-alike: a foreign DLL whose ProductName differs from ours only in case"
check "a look-alike DLL (ProductName USB2CAN, CompanyName 8devices) builds" \
    make_lookalike_dll "$work/lookalike64.dll"
cp "$work/lookalike64.dll" "$c/windows/system32/usb2can.dll"
before=$(snapshot)
run_setup "$setup" /S
check "installing over the look-alike System32\\usb2can.dll exits 0" [ $? -eq 0 ]
check "the look-alike is kept in Program Files\\usb2can\\backup\\x64, ours in System32" \
    eval 'cmp -s "$work/lookalike64.dll" "$pf/backup/x64/usb2can.dll" &&
          cmp -s "$stripped/x64/usb2can.dll" "$c/windows/system32/usb2can.dll"'
run_uninstaller
check "silent uninstall exits 0" [ $? -eq 0 ]
check "uninstall put the look-alike System32\\usb2can.dll back" \
    cmp -s "$work/lookalike64.dll" "$c/windows/system32/usb2can.dll"
check_nothing_left "$before" 64 32
rm -f "$c/windows/system32/usb2can.dll"

echo "=== win32: install, use and uninstall on 32-bit Windows"
check "a fresh 32-bit Wine prefix" new_prefix "$work/prefix32" win32
before=$(snapshot)
run_setup "$setup" /S
check "silent install exits 0" [ $? -eq 0 ]
check "System32\\usb2can.dll is the 32-bit DLL (PE32), byte for byte" \
  eval 'is_dll "$c/windows/system32/usb2can.dll" pei-i386 "PE32 executable (DLL)" &&
        cmp -s "$stripped/x86/usb2can.dll" "$c/windows/system32/usb2can.dll"'
check "no SysWOW64 appeared" [ ! -e "$c/windows/syswow64" ]
check "Program Files\\usb2can holds exactly the expected files" check_program_files
check "uninstall entry registered" check_uninstall_entry "" "" "$version"
check_clients x86
run_uninstaller
check "silent uninstall exits 0" [ $? -eq 0 ]
check_nothing_left "$before" ""

finish
