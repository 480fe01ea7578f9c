"""Code that the API and every worker share: settings, schemas, stores, providers, pipelines."""
