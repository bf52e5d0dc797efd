#!/usr/bin/env bash
# What the stack and its tests run against, made present before `npm start` and `npm test` so
# that both work on a fresh Debian machine with only Node and npm: Redis on 127.0.0.1:6379,
# PostgreSQL on 127.0.0.1:5432 taking user postgres without a password, with --chromium the
# browser the web page's test drives, and with --promtool the checker of the alert rules. What is
# missing is installed (Debian's packages) and started when this user may (root, or sudo without a password); otherwise the message says what to do.
# A service given elsewhere (REDIS_URL; DATABASE_URL or the tests' TEST_DATABASE_BASE) is left to
# whoever set it.
set -uo pipefail

want_chromium=0
want_promtool=0
for flag in "$@"; do
  case "$flag" in
    --chromium) want_chromium=1 ;;
    --promtool) want_promtool=1 ;;
  esac
done

as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); fi
fi
may_administer() { [ "$(id -u)" = 0 ] || [ ${#as_root[@]} -gt 0 ]; }
admin() { if [ ${#as_root[@]} -gt 0 ]; then "${as_root[@]}" "$@"; else "$@"; fi; }

need_apt_update=1
apt_install() {
  # Another apt (unattended upgrades on a fresh machine, an install in another shell) may hold
  # dpkg's lock for a while: wait for it rather than fail and leave a test without its tool.
  if [ "$need_apt_update" = 1 ]; then admin apt-get -o DPkg::Lock::Timeout=600 update -qq; need_apt_update=0; fi
  admin env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
}

# The newest PostgreSQL cluster Debian's packages set up.
pg_version() { ls /etc/postgresql | sort -V | tail -n 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() { for _ in $(seq 1 100); do listening "$1" && return 0; sleep 0.2; done; return 1; }

missing=()

if [ -z "${REDIS_URL:-}" ] && ! listening 6379; then
  if may_administer; then
    command -v redis-server >/dev/null 2>&1 || { echo "installing redis-server"; apt_install redis-server; }
    echo "starting redis"
    admin mkdir -p /var/lib/redis /var/log/redis
    # Jobs must never be evicted to make room: BullMQ asks for noeviction.
    admin redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --maxmemory-policy noeviction --dir /var/lib/redis --logfile /var/log/redis/masterpost.log
    wait_for_port 6379 || missing+=("Redis did not start on 127.0.0.1:6379 (see /var/log/redis/masterpost.log)")
  else
    missing+=("Redis on 127.0.0.1:6379 (apt-get install redis-server, or set REDIS_URL)")
  fi
fi

# The tests' Redis Cluster (e2e/redis-cluster.ts) is joined with redis-cli, which Debian ships
# apart from the server, in redis-tools.
if command -v redis-server >/dev/null 2>&1 && ! command -v redis-cli >/dev/null 2>&1; then
  if may_administer; then
    echo "installing redis-tools (redis-cli)"; apt_install redis-tools
  else
    echo "warning: the Redis Cluster test needs redis-cli (apt-get install redis-tools)" >&2
  fi
fi

if [ -z "${DATABASE_URL:-}${TEST_DATABASE_BASE:-}" ]; then
  if ! listening 5432; then
    if may_administer; then
      command -v pg_ctlcluster >/dev/null 2>&1 || { echo "installing postgresql"; apt_install postgresql; }
      echo "starting postgresql"
      admin pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main start || true
      wait_for_port 5432 || missing+=("PostgreSQL did not start on 127.0.0.1:5432")
    else
      missing+=("PostgreSQL on 127.0.0.1:5432 (apt-get install postgresql, or set DATABASE_URL)")
    fi
  fi
  if listening 5432 && command -v psql >/dev/null 2>&1 \
    && ! psql -h 127.0.0.1 -U postgres -d postgres -w -Atc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian install asks for a password on TCP; the stack connects as postgres without one.
    if may_administer && [ -d /etc/postgresql ]; then
      echo "allowing trust auth for postgres on loopback"
      version=$(pg_version)
      hba=/etc/postgresql/$version/main/pg_hba.conf
      admin sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
      admin pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    else
      missing+=("PostgreSQL taking user postgres on 127.0.0.1 without a password (trust in pg_hba.conf, or set DATABASE_URL)")
    fi
  fi
fi

# playwright-core brings no browser of its own; the web page's test drives Debian's Chromium.
if [ "$want_chromium" = 1 ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if may_administer; then
    echo "installing chromium"; apt_install chromium
  else
    echo "warning: the web page's browser test needs Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)" >&2
  fi
fi

# The alert rules are checked and unit-tested with promtool (deploy/prometheus.spec.ts); Debian
# ships it in the prometheus package. Only the binary is used (not the package's server, nor the
# node exporter it recommends).
if [ "$want_promtool" = 1 ] && ! command -v promtool >/dev/null 2>&1; then
  if may_administer; then
    echo "installing promtool (Debian's prometheus package)"; apt_install --no-install-recommends prometheus
  else
    echo "warning: the alert rules' test needs promtool (apt-get install prometheus)" >&2
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Masterpost needs, and could not set up here:" >&2
  for item in "${missing[@]}"; do echo "  - $item" >&2; done
  exit 1
fi
