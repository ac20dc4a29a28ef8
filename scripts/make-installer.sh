#!/usr/bin/env bash
# Builds the Windows installer usb2can-setup-<version>.exe from the outputs of
# the windows-x86 and windows-x64 builds (both DLLs, import libraries, CLI if
# built) and the sources (headers, README, docs/*.md, LICENSE, example).
#
#   scripts/make-installer.sh [--x86 DIR] [--x64 DIR] [--out DIR]
#                             [--version X.Y.Z] [--if-x86-built] [--force]
#
# Defaults: --x86 build/windows-x86, --x64 build/windows-x64, --out build (the
# folder holding the x64 build), version from the x64 build's version.txt (the CMake project version).
# Rebuilds only when an input is newer than the installer, unless --force.
# --if-x86-built: when the windows-x86 build has no usb2can.dll yet, say so and
# succeed without an installer (the windows-x64 build calls it this way, so it
# never fails just because the 32-bit build has not run yet).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
x86=$root/build/windows-x86
x64=$root/build/windows-x64
out=
version=
if_x86_built=0
force=0
while [ $# -gt 0 ]; do
    case $1 in
    --x86) x86=$2; shift 2 ;;
    --x64) x64=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --if-x86-built) if_x86_built=1; shift ;;
    --force) force=1; shift ;;
    *) echo "make-installer.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
out=${out:-$(dirname "$x64")}

fail() { echo "make-installer.sh: $*" >&2; exit 1; }

if [ ! -f "$x86/usb2can.dll" ] && [ "$if_x86_built" = 1 ]; then
    echo "make-installer.sh: no installer yet: $x86/usb2can.dll is missing" \
        "(build the windows-x86 preset, then build windows-x64 again)"
    exit 0
fi
for f in "$x64/usb2can.dll" "$x86/usb2can.dll" "$x64/implib/usb2can.lib" \
    "$x86/implib/usb2can.lib" "$x64/implib/libusb2can.dll.a" "$x86/implib/libusb2can.dll.a" \
    "$x64/version.txt" "$x86/version.txt"; do
    [ -f "$f" ] || fail "missing $f (build the windows-x86 and windows-x64 presets)"
done

build_version=$(cat "$x64/version.txt")
[ "$(cat "$x86/version.txt")" = "$build_version" ] ||
    fail "the windows-x86 build is version $(cat "$x86/version.txt"), windows-x64 is $build_version: rebuild both"
version=${version:-$build_version}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version '$version' is not X.Y.Z"

# A DLL of the wrong architecture in the wrong folder is exactly the bug the
# installer exists to prevent: refuse to package one.
pe_format() { x86_64-w64-mingw32-objdump -f "$1" | sed -n 's/.*file format //p'; }
[ "$(pe_format "$x64/usb2can.dll")" = pei-x86-64 ] || fail "$x64/usb2can.dll is not a 64-bit DLL"
[ "$(pe_format "$x86/usb2can.dll")" = pei-i386 ] || fail "$x86/usb2can.dll is not a 32-bit DLL"

# strip_pe SRC DST: the binary without its debug sections (the builds are
# RelWithDebInfo), keeping the link time stamp so the result is reproducible.
strip_pe() {
    local lfanew stamp
    lfanew=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' ')
    stamp=$(od -An -tu4 -j$((lfanew + 8)) -N4 "$1" | tr -d ' ')
    SOURCE_DATE_EPOCH=$stamp x86_64-w64-mingw32-strip --strip-debug -o "$2" "$1"
}

setup=$out/usb2can-setup-$version.exe

inputs=("$x64/usb2can.dll" "$x86/usb2can.dll" "$x64/implib" "$x86/implib"
    "$root/include/canal.h" "$x64/generated/include/usb2can.h" "$root/README.md" "$root/docs" "$root/LICENSE"
    "$root/installer/usb2can.nsi" "$root/installer/example_python_can.py"
    "$root/scripts/make-installer.sh")
cli_defines=()
for arch in x64 x86; do
    dir=$x64
    [ $arch = x86 ] && dir=$x86
    if [ -f "$dir/usb2can-cli.exe" ]; then
        inputs+=("$dir/usb2can-cli.exe")
        cli_defines+=("-DCLI_${arch^^}")
    fi
done
if [ "$force" = 0 ] && [ -f "$setup" ] && [ -z "$(find "${inputs[@]}" -newer "$setup" -print -quit)" ]; then
    exit 0
fi

mkdir -p "$out"
payload=$(mktemp -d "$out/.usb2can-setup-payload.XXXXXX")
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload"/{x64,x86,include,docs,lib/x64,lib/x86}
strip_pe "$x64/usb2can.dll" "$payload/x64/usb2can.dll"
strip_pe "$x86/usb2can.dll" "$payload/x86/usb2can.dll"
cp "$x64/implib/usb2can.lib" "$x64/implib/libusb2can.dll.a" "$payload/lib/x64/"
cp "$x86/implib/usb2can.lib" "$x86/implib/libusb2can.dll.a" "$payload/lib/x86/"
cp "$root/include/canal.h" "$x64/generated/include/usb2can.h" "$payload/include/"
cp "$root/README.md" "$root/LICENSE" "$root/installer/example_python_can.py" "$payload/"
cp "$root"/docs/*.md "$payload/docs/"
for arch in x64 x86; do
    dir=$x64
    [ $arch = x86 ] && dir=$x86
    if [ -f "$dir/usb2can-cli.exe" ]; then
        strip_pe "$dir/usb2can-cli.exe" "$payload/$arch/usb2can-cli.exe"
    fi
done
makensis -V2 -NOCD -DVERSION="$version" -DPAYLOAD="$payload" -DOUTFILE="$setup.tmp" \
    "${cli_defines[@]}" "$root/installer/usb2can.nsi"
mv "$setup.tmp" "$setup"
echo "make-installer.sh: wrote $setup"
