"""Module 1's benchmarks (``make bench``): converter and upload throughput, side by side."""
