"""Rendering: papermill + nbconvert for the notebooks, and the front page."""
