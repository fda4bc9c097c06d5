#!/usr/bin/env bash
# Issue 16 ("a Debian package"): build the .deb with cargo-deb from the crate's [package.metadata.deb], show
# `dpkg-deb --info/--contents`, check the files, conffile, scripts and unit, install it into a throwaway root
# (`dpkg --root`, maintainer scripts run chrootless against that root), verify the installed unit with
# `systemd-analyze verify`, and package the arm64 binary the arm64 smoke run built.
#
# The amd64 package wraps the debug binary the tests just built (CI makes one workspace build; a release build would
# be a second one): it is staged where cargo-deb looks for a release binary and stripped. `cargo deb -p lookout` on a
# developer machine builds and packages the release binary as usual.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "deb: $*"; }
die() { echo "deb: FAIL: $*" >&2; exit 1; }

CARGO_DEB_VERSION=3.8.0
# `grep >/dev/null`, not `grep -q`, after a pipe: -q exits at the first match, the writer may then die of SIGPIPE,
# and pipefail turns that into a failure (it did, on the arm64 package's info).
if ! cargo deb --version 2>/dev/null | grep "$CARGO_DEB_VERSION" >/dev/null; then
  say "installing cargo-deb $CARGO_DEB_VERSION"
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION" --no-default-features
fi
if ! command -v systemd-analyze >/dev/null 2>&1 || ! command -v systemd-sysusers >/dev/null 2>&1 \
   || ! command -v deb-systemd-helper >/dev/null 2>&1; then
  say "installing systemd and init-system-helpers (systemd-analyze, systemd-sysusers, deb-systemd-helper)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends systemd init-system-helpers >/dev/null
fi
for bin in dpkg dpkg-deb systemd-analyze systemd-sysusers deb-systemd-helper; do
  command -v "$bin" >/dev/null 2>&1 || die "$bin is missing"
done

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
TARGET_DIR="$(cd "$TARGET_DIR" && pwd)"
OUT="$TARGET_DIR/debian"
rm -rf "$OUT" && mkdir -p "$OUT"
STAGE="$(mktemp -d)"
ROOT="$(mktemp -d)"
trap 'rm -rf "$STAGE" "$ROOT"' EXIT

[ -x "$TARGET_DIR/debug/lookout" ] || cargo build --locked -p lookout
mkdir -p "$STAGE/release"
cp "$TARGET_DIR/debug/lookout" "$STAGE/release/lookout"
CARGO_TARGET_DIR="$STAGE" cargo deb --locked -p lookout --no-build --strip --fast -o "$OUT/" >/dev/null
DEB="$(ls "$OUT"/lookout_*_amd64.deb)"
say "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

info="$(dpkg-deb --info "$DEB")"
contents="$(dpkg-deb --contents "$DEB")"
echo "$info"
echo "$contents"
grep -q '^ Package: lookout$' <<<"$info" || die "Package is not lookout"
grep -q '^ Architecture: amd64$' <<<"$info" || die "Architecture is not amd64"
grep -Eq '^ Depends: .*libc6' <<<"$info" || die "Depends lacks libc6"
grep -Eq '^ Depends: .*adduser' <<<"$info" || die "Depends lacks adduser"
for f in conffiles postinst postrm prerm; do
  grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$f" <<<"$info" || die "control member $f is missing"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | grep -x /etc/lookout/lookout.yml >/dev/null || die "lookout.yml is not a conffile"
for path in ./usr/bin/lookout ./etc/lookout/lookout.yml ./usr/lib/sysusers.d/lookout.conf \
            ./usr/share/doc/lookout/README.md ./usr/share/doc/lookout/copyright; do
  grep -q " $path\$" <<<"$contents" || die "$path is not in the package"
done
grep -Eq ' \./(usr/)?lib/systemd/system/lookout\.service$' <<<"$contents" || die "the systemd unit is not in the package"

# A throwaway root with an empty dpkg database; the scripts run on the host's tools against it (DPKG_ROOT).
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/etc" "$ROOT/run"
: > "$ROOT/var/lib/dpkg/status"; : > "$ROOT/var/lib/dpkg/available"
: > "$ROOT/etc/passwd"; : > "$ROOT/etc/group"; : > "$ROOT/etc/shadow"; : > "$ROOT/etc/gshadow"
# --force-depends: the throwaway root has no libc6 or adduser package installed (the host provides both).
dpkg --root="$ROOT" --force-script-chrootless --force-depends --force-not-root -i "$DEB"
grep -q '^Status: install ok installed$' "$ROOT/var/lib/dpkg/status" || die "dpkg did not record the package as installed"
grep -q '^lookout:' "$ROOT/etc/passwd" || die "postinst did not create the lookout user in the root"
"$ROOT/usr/bin/lookout" version | grep '^lookout ' >/dev/null || die "the installed binary does not run"
"$ROOT/usr/bin/lookout" check config "$ROOT/etc/lookout/lookout.yml" || die "the packaged configuration does not load"
[ "$(stat -c %a "$ROOT/etc/lookout/lookout.yml")" = 640 ] || die "lookout.yml is not mode 0640"
UNIT=""
for u in "$ROOT"/usr/lib/systemd/system/lookout.service "$ROOT"/lib/systemd/system/lookout.service; do
  [ -f "$u" ] && UNIT="$u" && break
done
[ -n "$UNIT" ] || die "the unit was not installed"
ls "$ROOT"/etc/systemd/system/multi-user.target.wants/lookout.service >/dev/null 2>&1 || die "the unit was not enabled"
# verify checks every directive and that ExecStart= is executable; the throwaway root has no targets or /bin/kill of
# its own, so the installed unit is verified on the host with its ExecStart pointed at the installed binary.
mkdir -p "$STAGE/unit"
sed "s|/usr/bin/lookout|$ROOT/usr/bin/lookout|" "$UNIT" > "$STAGE/unit/lookout.service"
verify="$(systemd-analyze verify "$STAGE/unit/lookout.service" 2>&1)" || { echo "$verify" >&2; die "systemd-analyze verify failed"; }
if [ -n "$verify" ]; then echo "$verify" >&2; die "systemd-analyze verify printed warnings"; fi
say "installed into a throwaway root; systemd-analyze verify passed"

# Purge keeps the data unless asked.
mkdir -p "$ROOT/var/lib/lookout/wal" && echo keep > "$ROOT/var/lib/lookout/wal/x"
dpkg --root="$ROOT" --force-script-chrootless --force-depends --force-not-root --purge lookout
[ -f "$ROOT/var/lib/lookout/wal/x" ] || die "purge deleted the data without LOOKOUT_PURGE_DATA=yes"
[ ! -e "$ROOT/etc/lookout/lookout.yml" ] || die "purge left the conffile"
say "purge removed the package and kept /var/lib/lookout"

# arm64: the dev-profile binary .ci/arm64-smoke.sh cross-built, staged where cargo-deb looks for a release binary
# (as the amd64 one is above).
ARM="$TARGET_DIR/aarch64-unknown-linux-gnu/debug/lookout"
if [ "${DEB_ARM64:-1}" = 1 ]; then
  [ -x "$ARM" ] || die "$ARM is missing: run .ci/arm64-smoke.sh first (or DEB_ARM64=0)"
  mkdir -p "$STAGE/aarch64-unknown-linux-gnu/release"
  cp "$ARM" "$STAGE/aarch64-unknown-linux-gnu/release/lookout"
  CARGO_TARGET_DIR="$STAGE" cargo deb --locked -p lookout --no-build --target aarch64-unknown-linux-gnu --no-strip --fast \
    -o "$OUT/" >/dev/null
  ARMDEB="$(ls "$OUT"/lookout_*_arm64.deb)"
  dpkg-deb --info "$ARMDEB" | grep '^ Architecture: arm64$' >/dev/null || die "the arm64 package is not arm64"
  dpkg-deb --contents "$ARMDEB" | grep ' ./usr/bin/lookout$' >/dev/null || die "the arm64 package has no binary"
  say "built $(basename "$ARMDEB") ($(stat -c %s "$ARMDEB") bytes)"
fi
say "ok"
