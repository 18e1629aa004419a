#!/usr/bin/env bash
# run.sh measures multiconn-server against the comparison servers and
# prints the throughput table of the chapter's README:
#
#   bash compare/run.sh        (from 05-multiconn; about a minute and a half)
#
# It builds multiconn-server and multiconn-client, builds the C server
# (compare/epoll_echo.c) when there is a C compiler (cc) on Linux, starts
# the Python server (python/multiconn_server.py) when there is python3, and
# runs multiconn-client against each in turn: three workloads, and RUNS
# rounds (default 3) of DURATION each (default 3s), alternating the servers
# so that each round compares them under the same conditions. The table
# shows the median of the rounds; next to the Go and Python figures, the
# range of their ratios to the C server's, round by round. Everything runs
# on 127.0.0.1, on ports the system picks.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
duration=${DURATION:-3s}

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$tmp/" ./cmd/multiconn-server ./cmd/multiconn-client
client=$tmp/multiconn-client

# The servers measured, in table order, and their addresses. (Plain
# arrays: associative ones need bash 4, and macOS comes with bash 3.2.)
names=()
addrs=()

# start NAME COMMAND...: starts a server in the background and waits (10 s
# at most) for its "listening on ADDR" line.
start() {
	local name=$1
	shift
	: >"$tmp/$name.log" # there before the server opens it, for sed below
	"$@" >>"$tmp/$name.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		local addr
		addr=$(sed -n 's/^listening on \([^ ]*\)$/\1/p' "$tmp/$name.log" | head -n 1)
		if [ -n "$addr" ]; then
			names+=("$name")
			addrs+=("$addr")
			return
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run.sh: the $name server did not start:" >&2
			cat "$tmp/$name.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "run.sh: the $name server printed no \"listening on\" line within 10 s" >&2
	exit 1
}

start Go "$tmp/multiconn-server" -q -addr 127.0.0.1:0
if [ "$(uname -s)" != Linux ]; then
	echo "no C server: it uses epoll, which only Linux has"
elif ! command -v cc >/dev/null; then
	echo "no C server: cc (a C compiler) is not installed"
else
	cc -O2 -Wall -Wextra -o "$tmp/epoll_echo" compare/epoll_echo.c
	start C "$tmp/epoll_echo" 0
fi
if command -v python3 >/dev/null; then
	start Python python3 python/multiconn_server.py 127.0.0.1 0
else
	echo "no Python server: python3 is not installed"
fi

# The workloads: a row title, the client's arguments, and the unit of the
# figure to read from its output.
rows=("1 connection, messages/s" "100 connections, messages/s" "1 connection, stream, MB/s")
args=("-duration $duration 1" "-duration $duration 100" "-stream -duration $duration 1")
units=("msgs/s" "msgs/s" "MB/s")

# measure ROW SERVER: one run of the client against server number SERVER;
# prints the figure.
measure() {
	local out
	# shellcheck disable=SC2086 # args holds several words
	if ! out=$("$client" -q -addr "${addrs[$2]}" ${args[$1]} 2>&1); then
		echo "run.sh: multiconn-client ${args[$1]} against the ${names[$2]} server failed:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "$out" | awk -v unit="${units[$1]}" '{ for (i = 2; i <= NF; i++) if ($i == unit || $i == unit ",") print $(i-1) }'
}

results=() # for row r and server s, at r*${#names[@]}+s: the figures, one per round
echo "$runs rounds of $duration per workload and server, on $(getconf _NPROCESSORS_ONLN) cores:" >&2
for ((round = 1; round <= runs; round++)); do
	for r in "${!rows[@]}"; do
		line="round $round, ${rows[$r]}:"
		for s in "${!names[@]}"; do
			v=$(measure "$r" "$s")
			results[r * ${#names[@]} + s]+="$v "
			line+=" ${names[$s]} $v"
		done
		echo "$line" >&2
	done
done

# The table. Figures keep three significant digits. awk reads the row
# titles and the figures from its input, one per line.
{
	for r in "${!rows[@]}"; do echo "row|$r|${rows[$r]}"; done
	for r in "${!rows[@]}"; do
		for s in "${!names[@]}"; do
			echo "fig|$r ${names[$s]}|${results[r * ${#names[@]} + s]}"
		done
	done
} | awk -F '|' -v names="${names[*]}" -v nrows="${#rows[@]}" '
function round3(x,   k) {
	k = 1
	while (x >= 1000 * k) k *= 10
	return int(x / k + 0.5) * k
}
function commas(x,   s) {
	s = sprintf("%d", x)
	while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
	return s
}
function median(list,   v, n, i, j, t) {
	n = split(list, v, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
$1 == "row" { row[$2] = $3 }
$1 == "fig" { fig[$2] = $3 }
END {
	ns = split(names, name, " ")
	head = "| 64-byte ping-pong and a stream |"; rule = "| --- |"
	hasC = 0
	for (s = 1; s <= ns; s++) {
		if (name[s] == "C") hasC = 1
		head = head " " (name[s] == "Go" ? "Go (this chapter)" : name[s] == "C" ? "C, epoll" : "Python, selectors") " |"
		rule = rule " --- |"
	}
	print head; print rule
	for (r = 0; r < nrows; r++) {
		line = "| " row[r] " |"
		if (hasC) split(fig[r " C"], c, " ")
		for (s = 1; s <= ns; s++) {
			cell = commas(round3(median(fig[r " " name[s]])))
			if (hasC && name[s] != "C") {
				# The ratio to C, round by round: the rounds alternate
				# the servers, so each compares like with like.
				n = split(fig[r " " name[s]], v, " ")
				lo = hi = v[1] / c[1]
				for (i = 2; i <= n; i++) { q = v[i] / c[i]; if (q < lo) lo = q; if (q > hi) hi = q }
				lo = sprintf("%.2f", lo); hi = sprintf("%.2f", hi)
				cell = cell " (" (lo == hi ? lo : lo "–" hi) " of C)"
			}
			line = line " " cell " |"
		}
		print line
	}
}'
