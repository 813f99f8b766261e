# Sourced by the benchmark scripts: LUNETTE is the binary to time (default: the release build,
# rebuilt incrementally first so a stale binary is never timed; LUNETTE_SKIP_BUILD=1 skips that).
LUNETTE=${LUNETTE:-.build/release/lunette}
if [[ -z ${LUNETTE_SKIP_BUILD:-} && $LUNETTE == .build/release/lunette ]]; then
  swift build -c release --product lunette >/dev/null
fi
