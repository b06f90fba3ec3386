"""Thin Wagtail admin glue: listings and views call the package's functions."""
