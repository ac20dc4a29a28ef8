#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12 machine,
# as root, without prompts, from Debian's archive only. Safe to run again: when
# every package is present and the cross-built dependencies are cached, it
# returns in seconds.
#
#   scripts/bootstrap.sh [BUILD_ROOT]     (default: ./build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build_root=${1:-$root/build}
export DEBIAN_FRONTEND=noninteractive

native_pkgs=(
  build-essential cmake ninja-build pkg-config git dpkg-dev
  mingw-w64 binutils-mingw-w64
  libcmocka-dev libusb-1.0-0-dev
  umockdev libumockdev-dev gir1.2-umockdev-1.0
  clang llvm libclang-rt-14-dev
  nsis python3 python3-can can-utils valgrind clang-format
)
wine_pkgs=(wine wine64 wine32:i386 libgstreamer-plugins-base1.0-0:i386)

log() { printf '[bootstrap] %s\n' "$*"; }

missing_packages() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || printf '%s\n' "$p"
  done
}

enable_i386_and_sources() {
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    log "adding the i386 architecture (32-bit Wine)"
    dpkg --add-architecture i386
  fi
  local src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ] && grep -q '^Types: deb$' "$src"; then
    log "enabling deb-src in $src (libusb and cmocka sources)"
    sed -i 's/^Types: deb$/Types: deb deb-src/' "$src"
  fi
  # The security archive's i386 index can lag behind its amd64 one; taking the
  # main archive's versions keeps wine32:i386 and wine64 installable together.
  local pin=/etc/apt/preferences.d/usb2can-security-pin
  if [ ! -f "$pin" ]; then
    printf 'Package: *\nPin: release l=Debian-Security\nPin-Priority: 100\n' >"$pin"
  fi
}

install_packages() {
  local missing
  missing=$(missing_packages "${native_pkgs[@]}" "${wine_pkgs[@]}")
  if [ -z "$missing" ]; then
    log "all packages present"
    return
  fi
  log "installing: $(echo $missing | tr '\n' ' ')"
  enable_i386_and_sources
  # Third-party lists on some machines are unreachable; Debian's are what count.
  apt-get update -o Acquire::Retries=3 || log "apt-get update reported errors; continuing with what it fetched"
  apt-get install -y --no-install-recommends "${native_pkgs[@]}"
  # wine32:i386 can displace wine64 when installed alone: install them together.
  apt-get install -y --no-install-recommends "${wine_pkgs[@]}"
  missing=$(missing_packages "${native_pkgs[@]}" "${wine_pkgs[@]}")
  if [ -n "$missing" ]; then
    echo "bootstrap: still missing after install: $missing" >&2
    exit 1
  fi
}

fetch_sources() {
  local srcdir=$build_root/deps/src
  if [ -d "$srcdir/libusb" ] && [ -d "$srcdir/cmocka" ]; then return; fi
  mkdir -p "$srcdir"
  if ! (cd "$srcdir" && apt-get source --download-only libusb-1.0 cmocka >/dev/null 2>&1); then
    enable_i386_and_sources
    apt-get update -o Acquire::Retries=3 || true
  fi
  (cd "$srcdir" && apt-get source libusb-1.0 cmocka >/dev/null)
  mv "$srcdir"/libusb-1.0-*/ "$srcdir/libusb"
  mv "$srcdir"/cmocka-*/ "$srcdir/cmocka"
}

cross_build() {
  local arch=$1 host=$1-w64-mingw32 prefix=$build_root/deps/$1
  if [ -f "$prefix/lib/libusb-1.0.a" ] && [ -f "$prefix/lib/libcmocka-static.a" ]; then
    log "$arch: cached libusb and cmocka in $prefix"
    return
  fi
  fetch_sources
  local work=$build_root/deps/work-$arch
  rm -rf "$work" && mkdir -p "$work"
  log "$arch: cross-building libusb"
  cp -a "$build_root/deps/src/libusb" "$work/libusb"
  (cd "$work/libusb" && ./configure --host="$host" --prefix="$prefix" \
      --disable-shared --enable-static >"$work/libusb.log" 2>&1 &&
    make -j"$(nproc)" >>"$work/libusb.log" 2>&1 && make install >>"$work/libusb.log" 2>&1) ||
    { tail -30 "$work/libusb.log" >&2; exit 1; }
  log "$arch: cross-building cmocka"
  cmake -S "$build_root/deps/src/cmocka" -B "$work/cmocka" -G Ninja \
      -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER="$host-gcc" \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release \
      -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF >"$work/cmocka.log" 2>&1 &&
    cmake --build "$work/cmocka" >>"$work/cmocka.log" 2>&1 &&
    cmake --install "$work/cmocka" >>"$work/cmocka.log" 2>&1 ||
    { tail -30 "$work/cmocka.log" >&2; exit 1; }
  rm -rf "$work"
}

install_packages
cross_build i686
cross_build x86_64
log "done"
