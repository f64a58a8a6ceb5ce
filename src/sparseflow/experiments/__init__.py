"""Experiments as data: trial functions, specs, runners, figures and reports."""
