#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 600 s each), one after
# the other, and prints libFuzzer's final statistics for each.
#
#   fuzz/run.sh                 # every target, 600 s each
#   FUZZ_SECONDS=60 fuzz/run.sh bearer scopes
#   FUZZ_SANITIZER=address fuzz/run.sh   # default: none (safe Rust; faster)
#
# Needs a nightly toolchain; installs cargo-fuzz when it is missing. A crash
# leaves its input under fuzz/artifacts/<target>/ and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-600}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(bearer scopes form verify)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target: ${seconds}s"
    log="$(mktemp)"
    if ! cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" \
        -- -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        status=1
        echo "!! $target failed; see the log below"
        tail -n 60 "$log"
    fi
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^#[0-9]+ +DONE' "$log" || true
    echo "corpus: $(find "corpus/$target" -type f | wc -l) inputs"
    rm -f "$log"
done
exit "$status"
