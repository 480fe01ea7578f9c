"""Gaussian-splat worker group: frames, structure-from-motion, training and conversion."""
