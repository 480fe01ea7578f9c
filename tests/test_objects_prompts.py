"""Prompt understanding: category by name or synonym, materials and colours per part, size and style words,
notes for what it guessed, and refusals for prompts that name nothing makeable."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest
from shared.objects.materials import COLOURS, MATERIALS
from shared.objects.prompts import understand


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("a red ceramic vase", "vase"),
        ("an amphora", "vase"),
        ("a wooden chair", "chair"),
        ("an armchair", "armchair"),
        ("a table lamp with a white shade", "table_lamp"),
        ("a small oak tree", "deciduous_tree"),
        ("a blue sports car", "car"),
        ("a sedan", "car"),
        ("a medieval sword", "sword"),
        ("a coffee mug", "mug"),
        ("a bookshelf full of books", "bookshelf"),
        ("a leather couch", "sofa"),
        ("an oak coffee table", "coffee_table"),
        ("a pine table", "dining_table"),
        ("a tall pine tree", "conifer_tree"),
        ("a chest of drawers", "cabinet"),
        ("a treasure chest", "chest"),
        ("a lamp post", "street_lamp"),
        ("a glass bottle", "bottle"),
        ("a stone tower", "tower"),
        ("a vase of flowers", "vase"),
        ("two wooden barrels", "barrel"),
        ("a yacht", "boat"),
        ("a fire truck", "truck"),
        ("a Potted Plant!", "potted_plant"),
    ],
)
def test_category_from_names_and_synonyms(prompt: str, category: str):
    found = understand(prompt, 0)
    assert found.spec.category == category
    assert not any(note.startswith("no factory") for note in found.notes)


def test_colour_and_material_dress_the_object_or_the_part_they_precede():
    vase = understand("a red ceramic vase", 0).spec.materials["body"]
    assert (vase.name, vase.color) == ("ceramic", COLOURS["red"])
    lamp = understand("a brass table lamp with a white shade", 0).spec.materials
    assert lamp["shade"].color == COLOURS["white"] and lamp["shade"].name == "fabric"
    assert lamp["base"].name == "bronze" and lamp["base"].metallic == 1.0
    chair = understand("a black chair", 0).spec.materials
    assert chair["frame"].color == chair["seat"].color == COLOURS["black"]  # every part of the main material
    glass = understand("a glass vase", 0).spec.materials["body"]
    assert glass.transmission == 1.0 and glass.roughness < 0.1
    gold = understand("a golden goblet", 0).spec.materials["body"]
    assert gold == MATERIALS["gold"]


def test_size_and_style_words_set_parameters():
    assert understand("a small vase", 0).spec.scale == pytest.approx(0.75)
    assert understand("a huge vase", 0).spec.scale > 1.5
    assert understand("a tall vase", 0).spec.stretch > 1.0
    assert understand("a wide sofa", 0).spec.widen > 1.0
    assert understand("a round table", 0).spec.flags == ("round",)
    assert "ornate" in understand("an ornate sword", 0).spec.flags
    assert understand("a low-poly tree", 0).spec.detail == "low"
    assert understand("a vase", 0, "high").spec.detail == "high"


def test_kind_words_pick_the_parameters_of_that_kind():
    from shared.objects.base import build

    def extent(prompt: str) -> list[float]:
        low, high = build(understand(prompt, 3).spec).bounds
        return list(high - low)

    assert extent("a sports car")[1] < 1.25 < 1.7 < extent("an suv")[1]
    assert extent("a dagger")[1] < 0.6 < 1.2 < extent("a claymore")[1]
    assert understand("a canoe", 3).spec.params["mast"] == 0.0 and understand("a sailboat", 3).spec.params["mast"] == 1
    assert understand("a king size bed", 3).spec.params["width"] > understand("a single bed", 3).spec.params["width"]
    assert understand("a king size bed", 3).notes == []


def test_an_explicit_size_sets_the_largest_dimension():
    from shared.objects.base import build

    made = build(understand("a 30 cm vase", 2).spec)
    assert max(made.bounds[1] - made.bounds[0]) == pytest.approx(0.30, rel=0.02)
    clamped = understand("a 3 m chair", 2)
    assert any("made it 1.2 m" in note for note in clamped.notes)


@pytest.mark.parametrize(
    ("prompt", "category", "word"),
    [
        ("a chiar", "chair", "chiar"),
        ("a cauldron", "bucket", "cauldron"),
        ("a bicycle", "car", "bicycle"),
    ],
)
def test_an_unknown_object_becomes_the_nearest_category_with_a_note(prompt: str, category: str, word: str):
    found = understand(prompt, 0)
    assert found.spec.category == category
    assert any(word in note and "nearest" in note for note in found.notes)


def test_words_it_could_not_use_are_noted_not_dropped():
    found = understand("a wooden chair with quantum flux", 0)
    assert found.spec.category == "chair"
    assert any("quantum" in note and "flux" in note for note in found.notes)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("", "no words"),
        ("123 456", "no words"),
        ("a flurble wibble", "no object"),
        ("a 5 km chair", "5 km"),
        ("a 2 mm house", "2 mm"),
    ],
)
def test_prompts_that_name_nothing_makeable_are_refused(prompt: str, message: str):
    with pytest.raises(InvalidRequest, match=message):
        understand(prompt, 0)
