#!/usr/bin/env bash
# Headless Chromium from Debian (packages chromium and chromium-driver) for the browser check of
# the HTML report (tests/test_report_browser.py). Installed quietly when missing; never fails CI:
# where apt is unavailable the browser test is skipped, not failed, and this says so.
if ! command -v chromium >/dev/null 2>&1; then
  { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
         && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; } \
    || echo "note: chromium not installed; the browser check of the report will be skipped"
fi
exit 0
