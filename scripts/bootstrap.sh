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
  nsis python3 python3-can valgrind clang-format
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

# The Windows builds link libusb 1.0.28 (1.0.27 fixed the multi-GUID
# DeviceInterfaceGUIDs read, a sync-transfer completion race and waits on
# unconfigured devices during enumeration). Debian 12 carries 1.0.26, Debian 13
# (trixie) 1.0.28: its upstream tarball is fetched from trixie's source index
# through a private apt configuration (the machine's sources stay as they are),
# and apt checks it against the SHA256 of that index, whose signature apt has
# verified with the trixie keys of debian-archive-keyring. The packaging diff is
# not needed. The Linux .so keeps the system's libusb.
libusb_version=1.0.28
libusb_debian_version=2:1.0.28-1
libusb_src=libusb-$libusb_version

trixie_apt() {
  local dir=$build_root/deps/apt
  # APT::Sandbox::User=root: the files land under the build root, which apt's
  # unprivileged _apt user may not be able to write.
  apt-get -o Dir::Etc::SourceList="$dir/none.list" -o Dir::Etc::SourceParts="$dir/sources.list.d" \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o APT::Sandbox::User=root "$@"
}

fetch_libusb_source() {
  local srcdir=$build_root/deps/src dir=$build_root/deps/apt
  if [ -f "$srcdir/$libusb_src/configure" ]; then return; fi
  mkdir -p "$srcdir" "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/uris"
  : >"$dir/none.list"
  cat >"$dir/sources.list.d/trixie-src.sources" <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-trixie-stable.gpg /usr/share/keyrings/debian-archive-trixie-automatic.gpg
EOS
  log "fetching trixie's source index (libusb $libusb_version)"
  trixie_apt -o Acquire::Retries=3 update >"$dir/update.log" 2>&1 ||
    { cat "$dir/update.log" >&2; exit 1; }
  # One line per file of the source package: 'URI' name size SHA256:hex
  local line uri name hash
  line=$(cd "$dir/uris" && trixie_apt --print-uris source "libusb-1.0=$libusb_debian_version" 2>/dev/null |
    grep "libusb-1.0_$libusb_version.orig.tar.bz2' ") ||
    { echo "bootstrap: libusb-1.0 $libusb_debian_version is not in trixie's source index" >&2; exit 1; }
  read -r uri name _ hash <<<"$line"
  uri=${uri//\'/}
  log "downloading $name ($hash, checked by apt)"
  /usr/lib/apt/apt-helper -o Acquire::Retries=3 -o APT::Sandbox::User=root download-file "$uri" "$srcdir/$name" "$hash" ||
    { echo "bootstrap: could not fetch $uri with $hash" >&2; exit 1; }
  rm -rf "${srcdir:?}/$libusb_src"
  tar -C "$srcdir" -xjf "$srcdir/$name"
  [ -f "$srcdir/$libusb_src/configure" ] ||
    { echo "bootstrap: $name holds no $libusb_src/configure" >&2; exit 1; }
}

fetch_cmocka_source() {
  local srcdir=$build_root/deps/src
  if [ -d "$srcdir/cmocka" ]; then return; fi
  mkdir -p "$srcdir"
  if ! (cd "$srcdir" && apt-get source --download-only cmocka >/dev/null 2>&1); then
    enable_i386_and_sources
    apt-get update -o Acquire::Retries=3 || true
  fi
  (cd "$srcdir" && apt-get source cmocka >/dev/null)
  mv "$srcdir"/cmocka-*/ "$srcdir/cmocka"
}

# The version a prefix holds ("" when none), from its pkg-config file.
installed_libusb_version() {
  local pc=$1/lib/pkgconfig/libusb-1.0.pc
  [ -f "$1/lib/libusb-1.0.a" ] && [ -f "$pc" ] || return 0
  sed -n 's/^Version: *//p' "$pc"
}

cross_build_libusb() {
  local arch=$1 host=$1-w64-mingw32 prefix=$build_root/deps/$1 have
  have=$(installed_libusb_version "$prefix")
  if [ "$have" = "$libusb_version" ]; then
    log "$arch: cached libusb $have in $prefix"
    return
  fi
  [ -z "$have" ] || log "$arch: cached libusb $have is not $libusb_version: rebuilding"
  fetch_libusb_source
  local work=$build_root/deps/work-$arch
  rm -rf "$work" && mkdir -p "$work"
  rm -rf "$prefix/include/libusb-1.0" "$prefix"/lib/libusb-1.0.* "$prefix/lib/pkgconfig/libusb-1.0.pc"
  log "$arch: cross-building libusb $libusb_version"
  cp -a "$build_root/deps/src/$libusb_src" "$work/libusb"
  (cd "$work/libusb" && ./configure --host="$host" --prefix="$prefix" \
      --disable-shared --enable-static >"$work/libusb.log" 2>&1 &&
    make -j"$(nproc)" >>"$work/libusb.log" 2>&1 && make install >>"$work/libusb.log" 2>&1) ||
    { tail -30 "$work/libusb.log" >&2; exit 1; }
  rm -rf "$work"
}

cross_build_cmocka() {
  local arch=$1 host=$1-w64-mingw32 prefix=$build_root/deps/$1
  if [ -f "$prefix/lib/libcmocka-static.a" ]; then
    log "$arch: cached cmocka in $prefix"
    return
  fi
  fetch_cmocka_source
  local work=$build_root/deps/work-cmocka-$arch
  rm -rf "$work" && mkdir -p "$work"
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

cross_build() {
  cross_build_libusb "$1"
  cross_build_cmocka "$1"
}

install_packages
cross_build i686
cross_build x86_64
log "done"
