#!/bin/sh
# Print the web module's raw and gzip sizes against the budget (1.2 MB raw, 450 KB gzip).
# Over budget prints a warning; with WEB_SIZE_STRICT=1 it fails.
f=${1:-www/pkg/haforu_web_bg.wasm}
raw=$(wc -c < "$f")
gz=$(gzip -9 -c "$f" | wc -c)
raw_max=1200000
gz_max=450000
status=ok
if [ "$raw" -gt "$raw_max" ] || [ "$gz" -gt "$gz_max" ]; then status="OVER BUDGET"; fi
printf '%s: %d bytes raw (budget %d), %d bytes gzip -9 (budget %d): %s\n' "$f" "$raw" "$raw_max" "$gz" "$gz_max" "$status"
if [ "$status" != ok ] && [ "${WEB_SIZE_STRICT:-0}" = 1 ]; then exit 1; fi
exit 0
