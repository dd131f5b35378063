#!/bin/sh
# Runs the unit tests of the web page's modules (tests/web/unit/*.test.mjs)
# with Node's own test runner. Exit code 77 makes ctest report the test as
# skipped: without node (or with a node older than 20, which lacks File and
# DecompressionStream("deflate-raw")) there is nothing to run them with.
#
# usage: run_unit_tests.sh DIRECTORY
directory=${1:?usage: run_unit_tests.sh DIRECTORY}

if ! command -v node >/dev/null 2>&1; then
    echo "web.units: node is not installed, skipping the web unit tests"
    exit 77
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "web.units: node $(node --version) is too old (20 or newer needed), skipping"
    exit 77
fi
# the files, not the directory: newer node versions read arguments as globs
exec node --test "$directory"/*.test.mjs
