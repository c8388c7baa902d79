# shellcheck shell=bash
# debian:bookworm-slim, rebuilt without a registry: `debootstrap --variant=minbase bookworm`
# made "slim" the way debuerreotype makes the official image. Shared by
# scripts/bench/image-size.sh (the base of both rootfs it measures) and scripts/image-test (the
# base images it imports into Docker). Needs root and debootstrap.
#
#   slim_base TAR MIRROR WORKDIR   writes the rootfs as TAR (numeric owners); WORKDIR/base is
#                                  scratch space, removed afterwards
slim_base() {
  local tar=$1 mirror=$2 b="$3/base"
  debootstrap --variant=minbase bookworm "$b" "$mirror" >&2
  # debian:bookworm-slim's apt sources: the release, its updates and security.
  rm -f "$b/etc/apt/sources.list"
  cat > "$b/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # debuerreotype's minimizing config (same settings, shortened comments): no apt caches kept
  # after installs, compressed indexes, no translations, no service starts.
  printf '#!/bin/sh\nexit 101\n' > "$b/usr/sbin/policy-rc.d"; chmod 0755 "$b/usr/sbin/policy-rc.d"
  echo 'force-unsafe-io' > "$b/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
  cat > "$b/etc/apt/apt.conf.d/docker-clean" <<CLEAN
DPkg::Post-Invoke { $clean };
APT::Update::Post-Invoke { $clean };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
  echo 'Acquire::GzipIndexes "true";' > "$b/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' > "$b/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$b/etc/apt/apt.conf.d/docker-autoremove-suggests"
  # debuerreotype's slim variant (debuerreotype-slimify with its .slimify-excludes/-includes):
  # dpkg stops installing these paths (so they stay out of images built on it too)...
  {
    echo '# The "slim" rules of debian:*-slim (debuerreotype): no docs but copyrights, no man/info, no locales.'
    local p
    for p in '/usr/share/doc/*' '/usr/share/doc/kde/HTML/*/*' '/usr/share/gnome/help/*/*' '/usr/share/info/*' \
             '/usr/share/linda/*' '/usr/share/lintian/overrides/*' '/usr/share/locale/*' '/usr/share/man/*' \
             '/usr/share/omf/*/*-*.emf'; do echo "path-exclude $p"; done
    for p in '/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*' '/usr/share/gnome/help/*/C/*' \
             '/usr/share/locale/all_languages' '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*' \
             '/usr/share/locale/languages' '/usr/share/locale/locale.alias' '/usr/share/omf/*/*-C.emf'; do
      echo "path-include $p"
    done
  } > "$b/etc/dpkg/dpkg.cfg.d/docker"
  # ... and the files debootstrap already installed there go: everything but the includes and
  # directories/symlinks, then (repeatedly) empty directories and dangling symlinks.
  local d
  for d in usr/share/doc usr/share/info usr/share/linda usr/share/lintian/overrides usr/share/locale \
           usr/share/man usr/share/gnome/help usr/share/omf; do
    [ -d "$b/$d" ] || continue
    find "$b/$d" -depth -mindepth 1 -not \( -type d -o -type l \) \
      -not \( -path "$b/usr/share/doc/*/copyright" -o -path "$b/usr/share/locale/all_languages" \
              -o -path "$b/usr/share/locale/currency/*" -o -path "$b/usr/share/locale/l10n/*" \
              -o -path "$b/usr/share/locale/languages" -o -path "$b/usr/share/locale/locale.alias" \
              -o -path "$b/usr/share/gnome/help/*/C/*" -o -path "$b/usr/share/omf/*/*-C.emf" \) -delete
    while [ -n "$(find "$b/$d" -depth -mindepth 1 \( -empty -o -xtype l \) -print -delete)" ]; do :; done
  done
  # What debuerreotype-tar leaves out of the image: apt caches and lists, logs with timestamps.
  rm -rf "$b"/var/cache/apt/*.bin "$b"/var/cache/apt/archives/*.deb "$b"/var/lib/apt/lists/* \
         "$b"/var/log/apt/history.log "$b"/var/log/apt/term.log
  tar -C "$b" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf --one-file-system "$b"
}
