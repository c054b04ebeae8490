#!/usr/bin/env bash
# Prepares this machine for Callscribe: Debian packages, npm packages, Postgres and a JetStream
# nats-server on loopback. Idempotent; `npm test` and `npm run demo` run it first.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
export ONNXRUNTIME_NODE_INSTALL=skip
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages ------------------------------------------------------------------------
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v sipp >/dev/null || need+=(sip-tester)
command -v sox >/dev/null || need+=(sox)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v baresip >/dev/null || need+=(baresip-core)
[ -f /usr/share/asterisk/sounds/en/agent-pass.wav ] || need+=(asterisk-core-sounds-en-wav)
# The dashboard's browser test drives Debian's chromium through playwright-core (no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
# Word LM tests: the recipe's text reads the prompts' transcripts; the Sphinx trie reader is checked on Debian's
# general English trigram against python3-sphinxbase's own scores.
[ -f /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz ] || need+=(asterisk-core-sounds-en)
[ -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || need+=(pocketsphinx-en-us)
[ -f /usr/lib/python3/dist-packages/sphinxbase/sphinxbase.py ] || need+=(python3-sphinxbase)
# Emotion tests score a second real speaker (festvox-ru's recordings); deployment tests render with kubectl.
[ -d /usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav ] || need+=(festvox-ru)
command -v kubectl >/dev/null || need+=(kubectl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Postgres on 127.0.0.1:5432, trust auth for the tests -----------------------------------
pg_ok() { psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; }
if ! pg_ok; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    log "allowing trust auth on loopback in $hba"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting Postgres $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart || as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  pg_ok || { log "Postgres did not come up on 127.0.0.1:5432"; exit 1; }
fi

# --- nats-server with JetStream on 127.0.0.1:4222 -------------------------------------------
nats_ok() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_ok; then
  store=${TMPDIR:-/tmp}/callscribe-nats
  mkdir -p "$store"
  log "starting nats-server with JetStream (store $store)"
  nats=$(command -v nats-server || echo /usr/sbin/nats-server)
  nohup "$nats" -a 127.0.0.1 -p 4222 -js -sd "$store" >"$store/server.log" 2>&1 &
  for _ in $(seq 1 30); do nats_ok && break; sleep 0.5; done
  nats_ok || { log "nats-server did not come up on 127.0.0.1:4222"; exit 1; }
fi

# --- npm packages ---------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  # `npm install`, not `npm ci`: the lock omits platform packages for other systems that some
  # registry mirrors do not serve, and `npm ci` refuses such a lock.
  npm install --no-audit --no-fund
fi
