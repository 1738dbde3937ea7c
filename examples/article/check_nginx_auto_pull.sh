#!/bin/sh
# The article's check_nginx_auto_pull.sh, as it must be written to run in the lab. The
# article's script: if nginx is not running, start it; if it is still not running 5 s
# later, stop keepalived so that the VIPs move. In the lab every host shares one PID
# namespace (pidof/killall would see the other server's nginx) and there is no systemctl:
# this script finds its host's nginx and keepalived through the pid files the lab keeps
# next to it, and starts nginx with the lab's start-nginx (docs/lab-files.md).
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
sleep 5
nginx_running && exit 0
kill -TERM "$(cat "$HERE/keepalived.pid")"
exit 1
