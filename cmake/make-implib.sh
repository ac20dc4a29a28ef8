#!/usr/bin/env bash
# Writes the import libraries C users link against usb2can.dll with:
# libusb2can.dll.a (MinGW) and usb2can.lib (MSVC-style short import library).
#   make-implib.sh ARCH DEF CORE_LIB OUT_DIR
# ARCH is i686 or x86_64. On i686 the functions are __stdcall, so a caller's
# object refers to _CanalOpen@8 while the DLL exports plain CanalOpen: the
# import library must carry the decorated symbol and the plain import name.
# The @N of each export is read from the compiled library (CORE_LIB), so the
# list can never drift from the code.
set -euo pipefail
arch=$1 def=$2 core=$3 out=$4
mkdir -p "$out"

gnu_dlltool=$arch-w64-mingw32-dlltool
nm=$arch-w64-mingw32-nm
case $arch in
i686) gnu_machine=i386 llvm_machine=i386 ;;
x86_64) gnu_machine=i386:x86-64 llvm_machine=i386:x86-64 ;;
*)
    echo "make-implib.sh: unknown architecture '$arch'" >&2
    exit 1
    ;;
esac

# "    CanalOpen @1" -> "CanalOpen 1"
exports=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*@\([0-9]\+\).*/\1 \2/p' "$def")
if [ -z "$exports" ]; then
    echo "make-implib.sh: no exports found in $def" >&2
    exit 1
fi

link_def=$out/usb2can-link.def
{
    echo "LIBRARY usb2can.dll"
    echo "EXPORTS"
    if [ "$arch" = i686 ]; then
        symbols=$("$nm" -g --defined-only "$core" 2>/dev/null)
        while read -r name ordinal; do
            decorated=$(printf '%s\n' "$symbols" |
                awk -v want="_$name@" '$3 ~ /^_/ && index($3, want) == 1 { print $3; exit }')
            if [ -z "$decorated" ]; then
                echo "make-implib.sh: $name is not defined as a __stdcall function in $core" >&2
                exit 1
            fi
            echo "    ${decorated#_} @$ordinal"
        done <<<"$exports"
    else
        while read -r name ordinal; do
            echo "    $name @$ordinal"
        done <<<"$exports"
    fi
} >"$link_def.tmp"
mv "$link_def.tmp" "$link_def"

# -k: the DLL exports the undecorated names (it is linked with --kill-at).
kill_at=()
[ "$arch" = i686 ] && kill_at=(-k)

"$gnu_dlltool" -m "$gnu_machine" "${kill_at[@]}" -d "$link_def" -D usb2can.dll \
    -l "$out/libusb2can.dll.a.tmp"
mv "$out/libusb2can.dll.a.tmp" "$out/libusb2can.dll.a"

llvm_dlltool=$(command -v llvm-dlltool || true)
if [ -n "$llvm_dlltool" ]; then
    "$llvm_dlltool" -m "$llvm_machine" "${kill_at[@]}" -d "$link_def" -D usb2can.dll \
        -l "$out/usb2can.lib.tmp"
else
    # A GNU import library is an archive of COFF objects, which MSVC's linker
    # also reads; the short import format is only preferred.
    cp "$out/libusb2can.dll.a" "$out/usb2can.lib.tmp"
fi
mv "$out/usb2can.lib.tmp" "$out/usb2can.lib"
