"""Example files shipped with the package (the daily topics for the Kursk coverage)."""
