"""The optional open-vocabulary fallback (OBJECTS_SEMANTIC_MATCHER): off by default, a guess with a note when on."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.errors import InvalidRequest, ProviderUnavailable
from shared.objects import semantic
from shared.objects.materials import COLOURS
from shared.objects.prompts import understand
from shared.providers.images_factory import FactoryImageGenerator


def test_off_by_default_an_unknown_object_is_refused():
    assert Settings().objects_semantic_matcher is False
    with pytest.raises(InvalidRequest, match="minivan"):
        understand("a red minivan", 0)


def test_switched_on_without_its_model_the_provider_is_unavailable(monkeypatch, tmp_path):
    monkeypatch.setattr(semantic, "available", lambda: False)
    with pytest.raises(ProviderUnavailable, match="requirements-semantic"):
        FactoryImageGenerator.check_available(Settings(data_dir=tmp_path, objects_semantic_matcher=True))
    FactoryImageGenerator.check_available(Settings(data_dir=tmp_path))


@pytest.mark.skipif(not semantic.available(), reason="the MiniLM model is not installed (requirements-semantic.txt)")
def test_switched_on_an_unknown_object_becomes_the_nearest_category_with_a_note():
    found = understand("a red minivan", 0, semantic=True)
    assert found.spec.category in ("car", "truck")
    assert any("sentence model" in note and "minivan" in note for note in found.notes)
    assert found.spec.materials["body"].color == COLOURS["red"]  # the rest of the prompt still applies
    assert understand("a wooden chair", 0, semantic=True).notes == []  # keywords first: no guess needed
    with pytest.raises(InvalidRequest):
        understand("zzzz qqqq", 0, semantic=True)
