#!/bin/sh
# Generate configure and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force
# the TAP driver `make check` uses ships with automake
cp "$(automake --print-libdir)/tap-driver.sh" build-aux/
