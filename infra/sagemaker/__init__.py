"""The SageMaker Processing image: its Dockerfile and the entrypoint it runs."""
