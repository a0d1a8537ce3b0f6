"""asv benchmark suites for skpar. Run from asv_bench/: ``asv run --python=same`` (profile: SKPAR_BENCH_PROFILE)."""
