#!/bin/sh
# Installs what the lab needs on Debian 12 / Ubuntu 22.04+ (apt only: Mininet's Python
# module is packaged for the system python3, so everything else comes from apt too; python3-venv
# for the README's `python3 -m venv`, which Debian 12 leaves out of python3).
# Safe to re-run. Services that the packages would start (nginx on the host's port 80)
# are held back while installing: the lab runs its own nginx inside its namespaces.
set -eu

PACKAGES="keepalived nginx ipvsadm mininet bridge-utils net-tools iproute2 kmod procps
  user-mode-linux python3 python-is-python3 python3-jinja2 python3-pyroute2 python3-pexpect
  python3-pytest python3-matplotlib python3-venv nftables iptables util-linux curl wrk"

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run it as root: sudo ./setup.sh" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: needs apt-get (Debian 12 / Ubuntu 22.04 or newer); install the packages listed in setup.sh by hand" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "setup.sh: everything is installed"
    exit 0
fi

echo "setup.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
fi
trap 'if [ -n "$made_policy" ]; then rm -f "$policy"; fi' EXIT
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
echo "setup.sh: done"
