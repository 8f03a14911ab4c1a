#!/usr/bin/env bash
# Start or stop Azurite's blob service on 127.0.0.1 for the integration tests.
#   azurite.sh start [port]   start it (idempotent: an instance of ours already there is kept),
#                             wait until the port answers, record its PID
#   azurite.sh stop [port]    stop the instance started here, by its recorded PID, and delete its data
#   azurite.sh pause [port]   stop it (SIGTERM) and keep its data: an outage of the service
#   azurite.sh resume [port]  start it again on the data that pause kept
# Installed by .ci/setup into $OBAGENT_TOOLS/azurite (default $HOME/.obagent-tools/azurite).
# The dev account is the well-known devstoreaccount1; the endpoint is
# http://127.0.0.1:<port>/devstoreaccount1. Nothing listens beyond loopback.
set -euo pipefail

action=${1:-}
port=${2:-${OBAGENT_AZURITE_PORT:-10000}}
prefix=${OBAGENT_TOOLS:-$HOME/.obagent-tools}/azurite
bin=$prefix/node_modules/.bin/azurite-blob
run=${OBAGENT_AZURITE_RUN:-${TMPDIR:-/tmp}/obagent-azurite-$(id -u)-$port}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
ours() { [ -s "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; }

stop_ours() {
	if [ -s "$run/pid" ]; then
		pid=$(cat "$run/pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
		fi
		echo "azurite.sh: stopped (pid $pid)"
	fi
}

case "$action" in
start|resume)
	if [ ! -x "$bin" ]; then
		echo "azurite.sh: Azurite is not installed at $prefix; run .ci/setup first" >&2
		exit 1
	fi
	if ours && port_open; then
		echo "azurite.sh: already running (pid $(cat "$run/pid")) on 127.0.0.1:$port"
		exit 0
	fi
	if port_open; then
		echo "azurite.sh: port $port on 127.0.0.1 is held by another process; set OBAGENT_AZURITE_PORT" >&2
		exit 1
	fi
	[ "$action" = resume ] || rm -rf "$run"
	mkdir -p "$run/data"
	# The bin is a node shebang script, so $! is node itself (not a wrapper): stop can kill it.
	setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$run/data" \
		--disableTelemetry --silent >"$run/log" 2>&1 </dev/null &
	echo $! >"$run/pid"
	for _ in $(seq 300); do
		port_open && { echo "azurite.sh: started (pid $(cat "$run/pid")) on 127.0.0.1:$port"; exit 0; }
		if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then
			echo "azurite.sh: Azurite exited while starting:" >&2
			cat "$run/log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "azurite.sh: Azurite did not answer on 127.0.0.1:$port within 30 s" >&2
	kill -TERM "$(cat "$run/pid")" 2>/dev/null || true
	exit 1
	;;
stop)
	stop_ours
	rm -rf "$run"
	;;
pause)
	stop_ours
	;;
*)
	echo "usage: azurite.sh start|stop|pause|resume [port]" >&2
	exit 2
	;;
esac
