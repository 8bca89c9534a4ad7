#!/usr/bin/env bash
# RUSTC_WRAPPER for `cargo afl build` (set by run.sh; FUZZ_FULL_OPT=1 turns it off).
#
# cargo-afl compiles every crate with `-C opt-level=3 -C codegen-units=1` and coverage
# instrumentation. The library links DataFusion, delta-rs, arrow and the AWS SDK, none of which
# a decoder calls; optimizing them that way would take most of an hour on two cores. This wrapper
# compiles every crate that is not on the decode/parse path at opt-level 0 (still instrumented,
# still with debug assertions and overflow checks). Monomorphized generic code is compiled in
# the crate that instantiates it, at that crate's level, so what the fuzzers run is optimized.
rustc="$1"
shift
hot=" bedrock_ledger bedrock_ledger_fuzz afl sniff object lines envelope record price_book teams replay \
serde serde_core serde_json itoa ryu zmij memchr flate2 zlib_rs libz_rs_sys crc32fast adler2 miniz_oxide \
csv csv_core chrono glob rayon rayon_core crossbeam_deque crossbeam_epoch crossbeam_utils either \
sha2 digest block_buffer generic_array crypto_common cpufeatures hashbrown num_traits smallvec \
thiserror simdutf8 "
name=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--crate-name" ]; then name="$arg"; break; fi
  prev="$arg"
done
if [ -n "$name" ] && [[ "$hot" != *" $name "* ]]; then
  args=()
  for arg in "$@"; do
    case "$arg" in
      opt-level=*) args+=("opt-level=0") ;;
      -Copt-level=*) args+=("-Copt-level=0") ;;
      *) args+=("$arg") ;;
    esac
  done
  exec "$rustc" "${args[@]}"
fi
exec "$rustc" "$@"
