#!/bin/sh
# Container entrypoint for every dfd service (run under tini, see the Dockerfiles).
#
# The old deployment died with "too many open files" past ~1000 users: the
# runtime hands containers a soft RLIMIT_NOFILE (often 1024) far below the hard
# limit. Raise the soft limit to the hard limit before starting Node, then
# exec so that the service (not this shell) receives SIGTERM from tini.
# The hard limit itself is set by the container runtime/node (containerd's
# LimitNOFILE); it cannot be raised from inside an unprivileged container.
set -eu

hard="$(ulimit -H -n)"
if [ "$hard" = "unlimited" ]; then
  # "unlimited" is not accepted by every kernel for nofile; use the usual fs.nr_open default.
  hard=1048576
fi
if ! ulimit -S -n "$hard" 2>/dev/null; then
  echo "dfd-entrypoint: could not raise the open-files soft limit to $hard (soft=$(ulimit -S -n))" >&2
fi
if [ "${DFD_ENTRYPOINT_QUIET:-0}" != "1" ]; then
  echo "dfd-entrypoint: open files limit soft=$(ulimit -S -n) hard=$(ulimit -H -n)" >&2
fi

if [ "$#" -eq 0 ]; then
  echo "dfd-entrypoint: no command given" >&2
  exit 64
fi
exec "$@"
