"""tsrnn benchmarks: ``python -m benchmarks [--quick] [--json FILE]``."""
