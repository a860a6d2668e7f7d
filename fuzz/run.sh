#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), seeded with the fixtures of its vendor.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New corpus entries go
# to fuzz/corpus/<target>/ (not committed); crashes to fuzz/artifacts/<target>/.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
declare -A seeds=(
  [ece_json]=../fixtures/ece
  [ece_xml]=../fixtures/ece
  [lp_notification]=../fixtures/lp
  [alvaria_callback]=../fixtures/alvaria
  [simprot_frames]=../fixtures/icc-simprot
  [website_routing]=../fixtures/icc-website-rest
  [wxcc_responses]=../fixtures/wxcc
  [legacy_csv]=../fixtures/wxcc-legacy
)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(ece_json ece_xml lp_notification alvaria_callback simprot_frames website_routing wxcc_responses legacy_csv)
fi
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "==> $target for ${seconds}s (seeds: ${seeds[$target]})"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[$target]}" -- \
      -max_total_time="$seconds" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 2>&1 | tail -n 4; then
    status=1
  fi
done
exit $status
