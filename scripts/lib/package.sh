# shellcheck shell=bash
# What the two Windows packages share, sourced by scripts/make-zip.sh and
# scripts/make-installer.sh (and tests/installer for u2c_strip_pe): one
# command line, one check of the builds, one payload. Both packages hold the
# same files in the same layout:
#   x64/usb2can.dll, x64/usb2can-cli.exe      64-bit library and CLI
#   x86/usb2can.dll, x86/usb2can-cli.exe      32-bit library and CLI
#   include/canal.h, include/usb2can.h        headers
#   lib/x64/, lib/x86/                        import libraries: usb2can.lib (MSVC),
#                                             libusb2can.dll.a (MinGW)
#   README.md, LICENSE, example_python_can.py, docs/*.md
# The CLI is part of the product: a build without it is refused.
#
# The command line both scripts take:
#   [--x86 DIR] [--x64 DIR] [--out DIR] [--version X.Y.Z] [--if-x86-built] [--force]
# Defaults: --x86 build/windows-x86, --x64 build/windows-x64, --out the
# folder holding the x64 build. The product name, version, publisher and
# copyright line come from the builds' package.txt (cmake/package.cmake
# writes it from CMakeLists.txt), which must be the same in both. --version
# packages under another version (the installer test makes an "older"
# installer that way).
# --if-x86-built: when the windows-x86 build has no usb2can.dll yet, say so
# and succeed (the windows-x64 build calls the scripts this way, so it never
# fails just because the 32-bit build has not run yet). A package is made
# again only when one of its inputs is newer than it, unless --force.

u2c_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
u2c_tool=${0##*/}

u2c_fail() {
  echo "$u2c_tool: $*" >&2
  exit 1
}

u2c_usage() {
  echo "$u2c_tool: $*" >&2
  echo "usage: $u2c_tool [--x86 DIR] [--x64 DIR] [--out DIR] [--version X.Y.Z]" \
    "[--if-x86-built] [--force]" >&2
  exit 2
}

# u2c_package_args WHAT "$@": parses the command line above into x86, x64,
# out, if_x86_built and force (out is created); WHAT names the package in
# messages ("zip", "installer").
u2c_package_args() {
  u2c_what=$1
  shift
  x86=$u2c_root/build/windows-x86
  x64=$u2c_root/build/windows-x64
  out=
  u2c_version_override=
  if_x86_built=0
  force=0
  local -A value_of=([--x86]=x86 [--x64]=x64 [--out]=out [--version]=u2c_version_override)
  while [ $# -gt 0 ]; do
    if [ -n "${value_of[$1]:-}" ]; then
      [ $# -ge 2 ] || u2c_usage "$1 needs a value"
      printf -v "${value_of[$1]}" '%s' "$2"
      shift 2
    elif [ "$1" = --if-x86-built ]; then
      if_x86_built=1
      shift
    elif [ "$1" = --force ]; then
      force=1
      shift
    else
      u2c_usage "unknown argument '$1'"
    fi
  done
  out=${out:-$(dirname "$x64")}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
}

# u2c_build ARCH: the build folder of x64 or x86.
u2c_build() {
  if [ "$1" = x86 ]; then echo "$x86"; else echo "$x64"; fi
}

# u2c_package_field KEY: one line of the x64 build's package.txt.
u2c_package_field() {
  sed -n "s/^$1=//p" "$x64/package.txt"
}

# PE format objdump reports for a file: pei-x86-64 or pei-i386.
u2c_pe_format() {
  x86_64-w64-mingw32-objdump -f "$1" | sed -n 's/.*file format //p'
}

# u2c_package_check: both builds are complete, of one version and of the
# right architectures; sets product, version, publisher and copyright. Exits 0 at once
# (no package) when --if-x86-built was given and the x86 build has no DLL.
u2c_package_check() {
  local arch dir f
  if [ ! -f "$x86/usb2can.dll" ] && [ "$if_x86_built" = 1 ]; then
    echo "$u2c_tool: no $u2c_what yet: $x86/usb2can.dll is missing" \
      "(build the windows-x86 preset, then build windows-x64 again)"
    exit 0
  fi
  for arch in x64 x86; do
    dir=$(u2c_build $arch)
    for f in usb2can.dll usb2can-cli.exe implib/usb2can.lib implib/libusb2can.dll.a package.txt; do
      [ -f "$dir/$f" ] || u2c_fail "missing $dir/$f (build the windows-x86 and windows-x64 presets)"
    done
  done
  [ -f "$x64/generated/include/usb2can.h" ] || u2c_fail "missing $x64/generated/include/usb2can.h"
  if ! cmp -s "$x86/package.txt" "$x64/package.txt"; then
    local lines
    lines=$(diff "$x86/package.txt" "$x64/package.txt" || true)
    u2c_fail "the windows-x86 build has $(sed -n 's/^< //p' <<<"$lines" | paste -sd ' ')" \
      "where windows-x64 has $(sed -n 's/^> //p' <<<"$lines" | paste -sd ' '): rebuild both"
  fi
  product=$(u2c_package_field product)
  publisher=$(u2c_package_field publisher)
  copyright=$(u2c_package_field copyright)
  version=${u2c_version_override:-$(u2c_package_field version)}
  if [ -z "$product" ] || [ -z "$publisher" ] || [ -z "$copyright" ]; then
    u2c_fail "$x64/package.txt lacks the product, publisher or copyright: rebuild windows-x64"
  fi
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || u2c_fail "version '$version' is not X.Y.Z"

  # Never package a binary of the wrong architecture in the wrong folder:
  # that is exactly the mistake both packages exist to prevent.
  for f in usb2can.dll usb2can-cli.exe; do
    [ "$(u2c_pe_format "$x64/$f")" = pei-x86-64 ] || u2c_fail "$x64/$f is not a 64-bit binary"
    [ "$(u2c_pe_format "$x86/$f")" = pei-i386 ] || u2c_fail "$x86/$f is not a 32-bit binary"
  done
}

# u2c_package_fresh FILE [INPUT...]: true when FILE exists and neither the
# payload's sources, the calling script, this library nor any INPUT is newer
# (and no --force).
u2c_package_fresh() {
  local file=$1
  shift
  [ "$force" = 0 ] && [ -f "$file" ] || return 1
  local inputs=("$@" "$0" "${BASH_SOURCE[0]}" "$x64/package.txt" "$u2c_root/include/canal.h"
    "$x64/generated/include/usb2can.h" "$u2c_root/README.md" "$u2c_root/LICENSE"
    "$u2c_root/installer/example_python_can.py" "$u2c_root/docs")
  local arch dir
  for arch in x64 x86; do
    dir=$(u2c_build $arch)
    inputs+=("$dir/usb2can.dll" "$dir/usb2can-cli.exe" "$dir/implib")
  done
  [ -z "$(find "${inputs[@]}" -newer "$file" -print -quit)" ]
}

# u2c_strip_pe SRC DST: the binary without its debug sections (the builds
# are RelWithDebInfo), keeping the link time stamp so the result is
# reproducible.
u2c_strip_pe() {
  local lfanew stamp
  lfanew=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' ')
  stamp=$(od -An -tu4 -j$((lfanew + 8)) -N4 "$1" | tr -d ' ')
  SOURCE_DATE_EPOCH=$stamp x86_64-w64-mingw32-strip --strip-debug -o "$2" "$1"
}

# u2c_package_stage DIR: the payload, in the layout above, into DIR.
u2c_package_stage() {
  local top=$1 arch dir
  mkdir -p "$top/include" "$top/docs"
  for arch in x64 x86; do
    dir=$(u2c_build $arch)
    mkdir -p "$top/$arch" "$top/lib/$arch"
    u2c_strip_pe "$dir/usb2can.dll" "$top/$arch/usb2can.dll"
    u2c_strip_pe "$dir/usb2can-cli.exe" "$top/$arch/usb2can-cli.exe"
    cp "$dir/implib/usb2can.lib" "$dir/implib/libusb2can.dll.a" "$top/lib/$arch/"
  done
  cp "$u2c_root/include/canal.h" "$x64/generated/include/usb2can.h" "$top/include/"
  cp "$u2c_root/README.md" "$u2c_root/LICENSE" "$u2c_root/installer/example_python_can.py" "$top/"
  cp "$u2c_root"/docs/*.md "$top/docs/"
}
