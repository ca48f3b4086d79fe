#!/usr/bin/env bash
# Runs vigil's whole test suite. Installs what the tests need first:
# moto (the AWS emulator), the schema validators and Playwright into .venv, pinned in
# scripts/requirements-test.txt, Helm (scripts/install-helm.sh), and, when
# PostgreSQL's server binaries are installed, a throwaway PostgreSQL on 127.0.0.1 so the
# store's tests run on both backends.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ] || ! cmp -s scripts/requirements-test.txt .venv/.requirements-test.txt; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt .venv/.requirements-test.txt
fi
# The deployment tests (deploy/) need Helm; once it is installed its absence must fail them.
if bash scripts/install-helm.sh; then
    export VIGIL_REQUIRE_DEPLOY_TOOLS=1
else
    echo "note: Helm could not be installed; the deployment test will say it skipped"
fi
export VIGIL_MOTO_SERVER="$PWD/.venv/bin/moto_server"
# Scans record themselves in vigil's data directory: keep the suite's out of the user's.
VIGIL_DATA_DIR="$(mktemp -d /tmp/vigil-test-data.XXXXXX)"
export VIGIL_DATA_DIR

# PostgreSQL: unless VIGIL_TEST_POSTGRES already names a server, start one in a temporary
# directory (as the `postgres` user when running as root, since initdb refuses root).
if [ -z "${VIGIL_TEST_POSTGRES:-}" ]; then
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
        pg_dir="$(mktemp -d /tmp/vigil-pg.XXXXXX)"
        pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        as_owner=()
        if [ "$(id -u)" = 0 ]; then
            chown postgres "$pg_dir"
            as_owner=(runuser -u postgres --)
        fi
        "${as_owner[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U vigil --auth=trust >/dev/null
        "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
            -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
        trap '"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir" "$VIGIL_DATA_DIR"' EXIT
        export VIGIL_TEST_POSTGRES="postgres://vigil@127.0.0.1:$pg_port/postgres"
        export VIGIL_REQUIRE_POSTGRES=1
        echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the store tests on 127.0.0.1:$pg_port"
    else
        trap 'rm -rf "$VIGIL_DATA_DIR"' EXIT
        echo "note: PostgreSQL is not installed; the store's tests run on SQLite only"
    fi
else
    trap 'rm -rf "$VIGIL_DATA_DIR"' EXIT
fi

# The console's browser test needs chromium; where it is installed, its absence of a result
# must fail the suite rather than skip.
if command -v chromium >/dev/null 2>&1; then
    export VIGIL_REQUIRE_BROWSER=1
fi

# The host tests (file integrity against AIDE, nftables in network namespaces, a real sshd)
# need root and Debian's aide, nftables, iproute2 and openssh-server; where they are all
# here, a missing one must fail the suite rather than skip.
if [ "$(id -u)" = 0 ] && command -v aide >/dev/null && command -v nft >/dev/null && command -v ip >/dev/null \
    && [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null; then
    export VIGIL_REQUIRE_HOST_TOOLS=1
fi

# `--tests`: every library, binary and integration test; not rustdoc's doc-test pass, which
# would compile each crate once more to find none (the crates' docs hold no Rust examples).
cargo test --workspace --locked --features vigil-agent/malware --tests "$@"
