#!/bin/sh
# Set up git-merge-crdtmem in a repository (or, with --global, for every
# repository): a thin wrapper around "git-merge-crdtmem install", for
# running straight from a source checkout.
#
#	sh install/install.sh [--repo DIR | --global] [--uninstall] [--force] [-q]
#
# Uses build/git-merge-crdtmem of this source tree when it is built, else
# git-merge-crdtmem from PATH, else builds it with make first. All the
# options are those of "git-merge-crdtmem install" (see its --help).
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 1
bin=$srcdir/build/git-merge-crdtmem

if ! test -x "$bin"; then
	if command -v git-merge-crdtmem >/dev/null 2>&1; then
		bin=$(command -v git-merge-crdtmem)
	else
		echo "git-merge-crdtmem is not built yet: running make in '$srcdir'" >&2
		make -C "$srcdir" >&2 || {
			echo "error: could not build git-merge-crdtmem (see above; 'sh install/deps.sh build' lists what is missing)" >&2
			exit 1
		}
	fi
fi
if ! test -x "$bin"; then
	echo "error: '$bin' is not an executable file" >&2
	exit 1
fi
exec "$bin" install "$@"
