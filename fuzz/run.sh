#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 60).
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Works with the stable toolchain:
# without a sanitizer (`-s none`), so it finds panics and aborts, not memory errors
# (there is no unsafe code of hookcast's own to find them in).
# A crash is saved under fuzz/artifacts/<target>/; add it to tests/fuzz_regressions.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
for target in $(cargo fuzz list); do
  echo "== fuzzing $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  cargo fuzz run -s none "$target" "fuzz/corpus/$target" fuzz/seeds/"$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1
done
