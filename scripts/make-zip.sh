#!/usr/bin/env bash
# Builds the portable package usb2can-<version>-windows.zip from the outputs
# of the windows-x86 and windows-x64 builds, for people who put usb2can.dll
# next to their program instead of running the installer. Inside, under
# usb2can-<version>-windows/:
#   x64/usb2can.dll, x64/usb2can-cli.exe      64-bit library and CLI
#   x86/usb2can.dll, x86/usb2can-cli.exe      32-bit library and CLI
#   include/canal.h, include/usb2can.h        headers
#   lib/x64/, lib/x86/                        import libraries: usb2can.lib (MSVC),
#                                             libusb2can.dll.a (MinGW)
#   README.md, LICENSE, example_python_can.py, docs/*.md
#
#   scripts/make-zip.sh [--x86 DIR] [--x64 DIR] [--out DIR] [--if-x86-built] [--force]
#
# Defaults: --x86 build/windows-x86, --x64 build/windows-x64, --out the folder
# holding the x64 build; the version is the builds' version.txt. Rebuilds
# only when an input is newer than the zip, unless --force. --if-x86-built:
# when the windows-x86 build has no usb2can.dll yet, say so and succeed
# (the windows-x64 build calls it this way).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
x86=$root/build/windows-x86
x64=$root/build/windows-x64
out=
if_x86_built=0
force=0
while [ $# -gt 0 ]; do
    case $1 in
    --x86) x86=$2; shift 2 ;;
    --x64) x64=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --if-x86-built) if_x86_built=1; shift ;;
    --force) force=1; shift ;;
    *) echo "make-zip.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
out=${out:-$(dirname "$x64")}
mkdir -p "$out"
out=$(cd "$out" && pwd)

fail() { echo "make-zip.sh: $*" >&2; exit 1; }

if [ ! -f "$x86/usb2can.dll" ] && [ "$if_x86_built" = 1 ]; then
    echo "make-zip.sh: no zip yet: $x86/usb2can.dll is missing" \
        "(build the windows-x86 preset, then build windows-x64 again)"
    exit 0
fi
binaries=()
for arch in x64 x86; do
    dir=$x64
    [ $arch = x86 ] && dir=$x86
    for f in usb2can.dll usb2can-cli.exe implib/usb2can.lib implib/libusb2can.dll.a version.txt; do
        [ -f "$dir/$f" ] || fail "missing $dir/$f (build the windows-x86 and windows-x64 presets)"
    done
    binaries+=("$dir/usb2can.dll" "$dir/usb2can-cli.exe" "$dir/implib")
done
version=$(cat "$x64/version.txt")
[ "$(cat "$x86/version.txt")" = "$version" ] ||
    fail "the windows-x86 build is version $(cat "$x86/version.txt"), windows-x64 is $version: rebuild both"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version '$version' is not X.Y.Z"

# Never package a binary of the wrong architecture in the wrong folder.
pe_format() { x86_64-w64-mingw32-objdump -f "$1" | sed -n 's/.*file format //p'; }
for f in usb2can.dll usb2can-cli.exe; do
    [ "$(pe_format "$x64/$f")" = pei-x86-64 ] || fail "$x64/$f is not a 64-bit binary"
    [ "$(pe_format "$x86/$f")" = pei-i386 ] || fail "$x86/$f is not a 32-bit binary"
done

# The binary without its debug sections (the builds are RelWithDebInfo),
# keeping the link time stamp so the result is reproducible.
strip_pe() {
    local lfanew stamp
    lfanew=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' ')
    stamp=$(od -An -tu4 -j$((lfanew + 8)) -N4 "$1" | tr -d ' ')
    SOURCE_DATE_EPOCH=$stamp x86_64-w64-mingw32-strip --strip-debug -o "$2" "$1"
}

name=usb2can-$version-windows
zip=$out/$name.zip
docs=()
[ -d "$root/docs" ] && mapfile -t docs < <(find "$root/docs" -maxdepth 1 -name '*.md' | sort)
inputs=("${binaries[@]}" "$root/include/canal.h" "$x64/generated/include/usb2can.h"
    "$root/README.md" "$root/LICENSE" "$root/installer/example_python_can.py"
    "$root/scripts/make-zip.sh" "${docs[@]}")
if [ "$force" = 0 ] && [ -f "$zip" ] && [ -z "$(find "${inputs[@]}" -newer "$zip" -print -quit)" ]; then
    exit 0
fi

stage=$(mktemp -d "$out/.usb2can-zip.XXXXXX")
trap 'rm -rf "$stage"' EXIT
top=$stage/$name
mkdir -p "$top"/{x64,x86,include,lib/x64,lib/x86}
for arch in x64 x86; do
    dir=$x64
    [ $arch = x86 ] && dir=$x86
    strip_pe "$dir/usb2can.dll" "$top/$arch/usb2can.dll"
    strip_pe "$dir/usb2can-cli.exe" "$top/$arch/usb2can-cli.exe"
    cp "$dir/implib/usb2can.lib" "$dir/implib/libusb2can.dll.a" "$top/lib/$arch/"
done
cp "$root/include/canal.h" "$x64/generated/include/usb2can.h" "$top/include/"
cp "$root/README.md" "$root/LICENSE" "$root/installer/example_python_can.py" "$top/"
if [ ${#docs[@]} -gt 0 ]; then
    mkdir -p "$top/docs"
    cp "${docs[@]}" "$top/docs/"
fi
# Fixed times and a sorted list: the same inputs give the same zip.
find "$top" -exec touch -h -d @"$(stat -c %Y "$x64/usb2can.dll")" {} +
(cd "$stage" && find "$name" -type f | LC_ALL=C sort >"$stage/files.txt" &&
    cmake -E tar cf "$zip.tmp" --format=zip --files-from="$stage/files.txt")
mv "$zip.tmp" "$zip"
echo "make-zip.sh: wrote $zip"
