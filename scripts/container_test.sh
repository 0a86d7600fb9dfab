#!/usr/bin/env bash
# Builds the container image (docker/Dockerfile) with podman and runs the container tests
# (tests/container): health within 30 s, environment overrides, data kept on a named volume
# across containers, image size, non-root user, and docker/docker-compose.yml through
# podman-compose. Needs no registry: the debian:bookworm-slim base is made locally with
# debootstrap once and cached in podman's image store. Debian 12, as root. docs/container.md.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

PODMAN=(podman --runtime runc)
BASE=localhost/debian:bookworm-slim
export KALAMDB_IMAGE="${KALAMDB_IMAGE:-localhost/kalamdb:test}"

# 1. Packages: podman with runc; netavark, aardvark-dns and iptables for the compose test's
# bridge network; debootstrap.
missing=()
for p in podman runc netavark aardvark-dns iptables debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "container_test: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Machines without per-container ulimit or pids cgroup control (CI VMs) reject podman's
# defaults; an existing configuration is left alone.
if [ ! -f /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\npids_limit = 0\n' > /etc/containers/containers.conf
fi

# 2. The base image, made once: a minbase bookworm slimmed like the official bookworm-slim (no
# docs, man pages, locales or apt lists), tagged under both names docker/Dockerfile's FROM may
# resolve to.
if ! "${PODMAN[@]}" image exists "$BASE"; then
  rootfs=$(mktemp -d /var/tmp/kalamdb-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "container_test: making $BASE with debootstrap (once)"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  tar -C "$rootfs" -c . | "${PODMAN[@]}" import --quiet - "$BASE" >/dev/null
  "${PODMAN[@]}" tag "$BASE" docker.io/library/debian:bookworm-slim
  rm -rf "$rootfs"
  trap - EXIT
fi

# 3. The image. --format docker keeps the HEALTHCHECK (the OCI format has no field for it).
echo "== container image build =="
start=$(date +%s)
KALAMDB_IMAGE_REV=$(git rev-parse --short=12 HEAD)
export KALAMDB_IMAGE_REV
"${PODMAN[@]}" build --network host --pull=never --format docker --build-arg JOBS=2 \
  --build-arg GIT_REV="$KALAMDB_IMAGE_REV" \
  --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt \
  -f docker/Dockerfile -t "$KALAMDB_IMAGE" . >/tmp/kalamdb-container-build.log 2>&1 \
  || { tail -50 /tmp/kalamdb-container-build.log; exit 1; }
echo "built $KALAMDB_IMAGE in $(( $(date +%s) - start )) s"

# 4. podman-compose (pure Python) in the project virtualenv.
if ! .venv/bin/podman-compose version >/dev/null 2>&1; then
  .venv/bin/pip install -q --disable-pip-version-check -r tests/container/requirements.txt
fi

echo "== container tests (pytest) =="
# -s: the tests print the image size and the seconds to /health.
.venv/bin/python -m pytest tests/container -q -s -p no:cacheprovider "$@"
