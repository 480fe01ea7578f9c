"""3D-asset worker group (``text_to_3d`` / ``image_to_3d``): images, reconstruction, post-processing."""
