"""Neutral building blocks every layer may use: parameters, seeds, threads, progress, atomic files, process lifetime."""
