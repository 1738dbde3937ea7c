#!/bin/sh
# Is this host's nginx running? If not, try to start it once; fail if it is still down
# one second later (the VRRP priority then drops by 20, below the peer's 100). In the lab
# every host shares one process table, so it finds its own nginx through the pid file the
# lab keeps next to this script (docs/lab-files.md); on a real host, read /run/nginx.pid.
HERE=${0%/*}

nginx_running() {
    { read -r pid < "$HERE/nginx.pid"; } 2>/dev/null && [ -n "$pid" ] || return 1
    { read -r name < "/proc/$pid/comm"; } 2>/dev/null && [ "$name" = nginx ] || return 1
    # A killed master its parent has not reaped yet (a zombie) keeps its name: not running.
    { while read -r key value rest; do
        [ "$key" = State: ] && { [ "$value" != Z ]; return; }
    done < "/proc/$pid/status"; } 2>/dev/null
    return 1
}

nginx_running && exit 0
"$HERE/start-nginx"
sleep 1
nginx_running && exit 0
exit 1
