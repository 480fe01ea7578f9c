"""Cloud worker group: the one task of every stage a cloud provider runs, on the sagemaker queue."""
