#!/usr/bin/env bash
# Makes sure Debian's `chromium` package is installed, for the HTML report's browser test
# (test/report/browser.test.ts drives it with playwright-core at /usr/bin/chromium).
#
# Browsers come only from the Debian mirrors this machine is configured with: playwright's own
# browser download is never used. Installing needs root (CI runs as root); without root, or
# without network, this script fails and the test decides what that means (fail under CI=true,
# skip with a message locally).
#
# Usage: scripts/ensure-chromium.sh   (exit 0 when /usr/bin/chromium is there afterwards)
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and this system has no apt-get" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing Debian's chromium package" >&2
# A stale package list is the usual reason for "Unable to locate package": refresh it first.
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi
