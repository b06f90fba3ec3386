"""Benchmarks of wagtail_journey against a baseline, measured in one run (`make bench`)."""
