"""The benchmarks' single entry point (today: the recurrent layers; see README.md)."""

from benchmarks.recurrent import main

main()
