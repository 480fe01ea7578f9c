"""Gaussian-splat worker group (``splat``): its tasks arrive with issue 5."""
