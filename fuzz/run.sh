#!/usr/bin/env bash
# Fuzzes the decoders with AFL++ through cargo-afl, on the stable toolchain.
#
#   bash fuzz/run.sh                 # every target, FUZZ_SECONDS (600) each, one after another
#   bash fuzz/run.sh record teams    # only these targets
#   FUZZ_SECONDS=60 bash fuzz/run.sh # shorter runs
#
# Steps: install what is missing (C toolchain from apt, cargo-afl from crates.io, AFL++ built from
# the source cargo-afl ships), build the targets (`cargo afl build --release`), replay the seeds,
# fuzz each target, print what each run did, copy crashing and hanging inputs (minimized with
# `cargo afl tmin`) to fixtures/fuzz-regressions/<target>/. Exits 1 if any input crashed or hung.
#
# Environment:
#   FUZZ_SECONDS      seconds per target (default 600)
#   FUZZ_TIMEOUT_MS   time limit per input in ms (default 2000); an input over it is a hang
#   FUZZ_MEMORY_MB    memory limit of the target in MB (default 512)
#   FUZZ_TARGET_DIR   cargo target dir (default ~/.cache/bedrock-ledger-fuzz-target)
#   FUZZ_OUT          AFL output dirs (default fuzz/out, git-ignored); cleared per target unless
#   FUZZ_RESUME=1     which continues the previous corpus instead
#   FUZZ_FULL_OPT=1   optimize every dependency too (see rustc-wrapper.sh; much slower build)
#   FUZZ_SKIP_BUILD=1 use the binaries already built
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
all_targets=(sniff object lines envelope record price_book teams)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
seconds="${FUZZ_SECONDS:-600}"
timeout_ms="${FUZZ_TIMEOUT_MS:-2000}"
memory_mb="${FUZZ_MEMORY_MB:-512}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/bedrock-ledger-fuzz-target}"
out_root="${FUZZ_OUT:-$here/out}"
afl_version="0.18.2"

for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target $t (targets: ${all_targets[*]})" >&2; exit 2; }
done

say() { printf '\n== %s\n' "$*"; }

# --- install ------------------------------------------------------------------------------
say "install"
# AFL++ is built from C sources: it needs cc and make (Debian: build-essential). No LLVM is
# needed: rustc's own SanitizerCoverage instruments the Rust code.
if ! command -v cc >/dev/null || ! command -v make >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential
fi
if ! cargo afl --version 2>/dev/null | grep -q "$afl_version"; then
  # Installing cargo-afl also builds AFL++ for the current toolchain (its build script).
  cargo install cargo-afl --version "$afl_version" --locked
fi
# Builds AFL++ if the install did not (it only says so when it fails); "already built" is fine.
if ! config_log="$(cargo afl config --build 2>&1)"; then
  grep -q "already built" <<<"$config_log" || { echo "$config_log" >&2; exit 1; }
fi
echo "cargo-afl $(cargo afl --version 2>/dev/null | head -1)"

# --- build --------------------------------------------------------------------------------
bin="$CARGO_TARGET_DIR/release"
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  say "build (target dir $CARGO_TARGET_DIR)"
  if [ "${FUZZ_FULL_OPT:-0}" != 1 ]; then
    export RUSTC_WRAPPER="$here/rustc-wrapper.sh"
  fi
  (cd "$here" && cargo afl build --release --locked --bins)
fi

# --- seeds must pass before fuzzing -------------------------------------------------------
say "replay seeds and saved regressions"
mkdir -p "$out_root"
for t in "${targets[@]}"; do
  inputs=("$here/seeds/$t")
  [ -d "$root/fixtures/fuzz-regressions/$t" ] && inputs+=("$root/fixtures/fuzz-regressions/$t")
  if ! RAYON_NUM_THREADS=1 "$bin/replay" "$t" "${inputs[@]}" >"$out_root/replay-$t.log" 2>&1; then
    grep -A 30 '^PANIC' "$out_root/replay-$t.log" >&2 || true
    echo "replaying $t's seeds or regressions panicked (see $out_root/replay-$t.log)" >&2
    replay_failed=1
  else
    tail -1 "$out_root/replay-$t.log" | sed "s/^/$t: /"
  fi
done
[ "${replay_failed:-0}" = 0 ] || exit 1

# --- fuzz ---------------------------------------------------------------------------------
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# One core: the decoders spread a block over the rayon pool; one worker is enough here.
export RAYON_NUM_THREADS=1
[ "${FUZZ_RESUME:-0}" = 1 ] && export AFL_AUTORESUME=1
dict_of() { case "$1" in price_book | teams) echo "$here/dict/csv.dict" ;; *) echo "$here/dict/json.dict" ;; esac; }
stat_of() { sed -n "s/^$2 *: *//p" "$1" | head -1; }

results=()
found=0
for t in "${targets[@]}"; do
  out="$out_root/$t"
  [ "${FUZZ_RESUME:-0}" = 1 ] || rm -rf "$out"
  say "fuzz $t for ${seconds}s (log $out.log)"
  cargo afl fuzz -V "$seconds" -m "$memory_mb" -t "$timeout_ms" -x "$(dict_of "$t")" \
    -i "$here/seeds/$t" -o "$out" -- "$bin/$t" >"$out.log" 2>&1 || {
      echo "afl-fuzz failed for $t:" >&2; tail -30 "$out.log" >&2; exit 1; }
  stats="$out/default/fuzzer_stats"
  crashes="$(stat_of "$stats" saved_crashes)"
  hangs="$(stat_of "$stats" saved_hangs)"
  # AFL's own peak_rss_mb does not see persistent-mode children: replay the final corpus in
  # one process instead, which also checks that no kept input panics outside AFL.
  RAYON_NUM_THREADS=1 "$bin/replay" "$t" "$out/default/queue" >"$out.queue-replay.log" 2>&1 || true
  rss="$(sed -n 's/^peak_rss_mb //p' "$out.queue-replay.log")"
  results+=("$(printf '%-11s %7s %10s %8s %7s %7s %6s %10s %7s' "$t" "$(stat_of "$stats" run_time)" \
    "$(stat_of "$stats" execs_done)" "$(stat_of "$stats" execs_per_sec)" \
    "$(stat_of "$stats" corpus_count)" "$crashes" "$hangs" "$(stat_of "$stats" slowest_exec_ms)" "$rss")")
  echo "${results[-1]}"
  # Keep every crash and hang, minimized, as a regression input.
  for kind in crashes hangs; do
    for input in "$out/default/$kind"/id:*; do
      [ -f "$input" ] || continue
      found=1
      dest="$root/fixtures/fuzz-regressions/$t"
      mkdir -p "$dest"
      name="${kind%es}"; name="${name%s}-$(sha256sum "$input" | cut -c1-12)"
      tmin_args=()
      [ "$kind" = hangs ] && tmin_args=(-H)
      if ! RAYON_NUM_THREADS=1 timeout 300 cargo afl tmin "${tmin_args[@]}" -m "$memory_mb" \
        -t "$((timeout_ms * 2))" -i "$input" -o "$dest/$name" -- "$bin/$t" >"$out.tmin.log" 2>&1; then
        cp "$input" "$dest/$name"
      fi
      echo "$kind: $input -> fixtures/fuzz-regressions/$t/$name"
      if [ "$kind" = crashes ]; then
        RAYON_NUM_THREADS=1 "$bin/replay" "$t" "$dest/$name" | grep -A 25 '^PANIC' || true
      fi
    done
  done
done

say "results (${seconds}s per target)"
printf '%-11s %7s %10s %8s %7s %7s %6s %10s %7s\n' target seconds execs exec/s corpus crashes hangs slowest_ms rss_mb
printf '%s\n' "${results[@]}" | tee "$out_root/results.txt"
if [ "$found" = 1 ]; then
  echo "crashes or hangs found: see fixtures/fuzz-regressions/" >&2
  exit 1
fi
echo "no crash, no hang"
