"""Cloud compute backends (SageMaker Processing); boto3 is imported only when a client is built."""
