"""Request/response models, the ScenePlan and the manifest JSON Schema."""
