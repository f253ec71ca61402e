#!/bin/sh
# Make sure the packages git-merge-crdtmem needs are here.
#
#   sh install/deps.sh build        compiler, make, pkg-config, cJSON
#   sh install/deps.sh build test   ... and Criterion and git for the tests
#
# Installs what is missing with apt-get when run as root on Debian or
# Ubuntu; otherwise prints the exact command to run and fails.
set -u

need_pkgs=
missing() { need_pkgs="$need_pkgs $1"; }

for what in "$@"; do
	case $what in
	build)
		command -v cc >/dev/null 2>&1 || missing gcc
		command -v make >/dev/null 2>&1 || missing make
		command -v pkg-config >/dev/null 2>&1 || missing pkg-config
		if ! command -v pkg-config >/dev/null 2>&1 ||
			! pkg-config --exists libcjson; then
			missing libcjson-dev
		fi
		;;
	test)
		if ! command -v pkg-config >/dev/null 2>&1 ||
			! pkg-config --exists criterion; then
			missing libcriterion-dev
		fi
		command -v git >/dev/null 2>&1 || missing git
		;;
	valgrind)
		command -v valgrind >/dev/null 2>&1 || missing valgrind
		;;
	*)
		echo "usage: sh install/deps.sh build|test|valgrind..." >&2
		exit 2
		;;
	esac
done

[ -z "$need_pkgs" ] && exit 0

echo "Missing packages:$need_pkgs" >&2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "Installing them with apt-get ..." >&2
	# shellcheck disable=SC2086 # the package list is meant to split
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need_pkgs >&2 &&
		exit 0
	echo "error: apt-get could not install:$need_pkgs" >&2
	exit 1
fi
echo "error: install them first, for example:" >&2
echo "  sudo apt-get install -y$need_pkgs" >&2
exit 1
