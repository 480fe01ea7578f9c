"""Prompt -> ObjectSpec with a keyword matcher: category, materials and colours per part, size and style.

"a table lamp with a white shade": the category is the last one named before the first
preposition ("table lamp", not "table"); "white" goes to the shade because it stands before a word
for the lamp's shade role; a material or colour named with the object itself dresses every part
made of the object's main material. Words it cannot place are reported in the notes, never dropped
silently; a prompt that names no object at all, or an impossible size, is an ``InvalidRequest``.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, replace

from shared.errors import InvalidRequest
from shared.objects.base import Factory, ObjectSpec, build, catalogue, default_spec
from shared.objects.materials import COLOURS, MATERIAL_WORDS, MATERIALS, Material

CUT_WORDS = frozenset(
    {
        "with",
        "of",
        "on",
        "in",
        "under",
        "beside",
        "next",
        "near",
        "holding",
        "containing",
        "full",
        "filled",
        "for",
        "by",
        "inside",
        "behind",
        "against",
        "atop",
        "from",
        "and",
    }
)
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "some",
        "one",
        "single",
        "very",
        "really",
        "quite",
        "made",
        "out",
        "that",
        "is",
        "looks",
        "like",
        "style",
        "styled",
        "kind",
        "type",
        "sort",
        "model",
        "object",
        "3d",
        "render",
        "of",
        "with",
        "and",
        "to",
        "it",
        "its",
        "my",
        "this",
        "please",
        "make",
        "me",
        "realistic",
        "detailed",
        "simple",
        "classic",
        "old",
        "new",
        "modern",
        "vintage",
        "nice",
        "beautiful",
        "pretty",
        "cute",
        "cozy",
        "cosy",
        "plain",
        "shiny",
        "matte",
        "polished",
        "size",
        "sized",
        "story",
        "storey",
        "storied",
    }
    | CUT_WORDS
)
SCALE_WORDS = {
    "tiny": 0.5,
    "mini": 0.6,
    "miniature": 0.45,
    "small": 0.75,
    "little": 0.75,
    "compact": 0.8,
    "large": 1.3,
    "big": 1.3,
    "huge": 1.8,
    "giant": 2.0,
    "enormous": 2.0,
    "massive": 1.8,
}
STRETCH_WORDS = {"tall": 1.3, "high": 1.25, "short": 0.75, "low": 0.75, "squat": 0.7, "stubby": 0.7}
WIDEN_WORDS = {
    "wide": 1.25,
    "broad": 1.25,
    "long": 1.2,
    "fat": 1.25,
    "narrow": 0.8,
    "thin": 0.8,
    "slim": 0.8,
    "slender": 0.8,
    "skinny": 0.75,
}
FLAG_WORDS = {
    "round": "round",
    "circular": "round",
    "rounded": "round",
    "ornate": "ornate",
    "decorative": "ornate",
    "fancy": "ornate",
    "elaborate": "ornate",
    "carved": "ornate",
    "antique": "ornate",
    "baroque": "ornate",
    "victorian": "ornate",
    "medieval": "ornate",
    "royal": "ornate",
    "gothic": "ornate",
}
UNITS = {
    "mm": 0.001,
    "millimetres": 0.001,
    "millimeters": 0.001,
    "cm": 0.01,
    "centimetres": 0.01,
    "centimeters": 0.01,
    "m": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "km": 1000.0,
    "kilometres": 1000.0,
    "kilometers": 1000.0,
    "in": 0.0254,
    "inch": 0.0254,
    "inches": 0.0254,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
}
# things the factories do not make, each with the category that comes closest (reported in the notes)
RELATED = {
    "furniture": "chair",
    "seating": "chair",
    "throne": "armchair",
    "cushion": "sofa",
    "pouf": "stool",
    "counter": "dining_table",
    "nightlight": "table_lamp",
    "candle": "table_lamp",
    "chandelier": "floor_lamp",
    "light": "table_lamp",
    "cauldron": "bucket",
    "pan": "bowl",
    "saucepan": "bucket",
    "basket": "bucket",
    "trophy": "cup",
    "can": "jar",
    "tin": "jar",
    "grass": "bush",
    "log": "rock",
    "stump": "rock",
    "hill": "rock",
    "sapling": "deciduous_tree",
    "bicycle": "car",
    "bike": "car",
    "motorcycle": "car",
    "tractor": "truck",
    "tank": "truck",
    "train": "truck",
    "submarine": "boat",
    "raft": "boat",
    "axe": "sword",
    "spear": "sword",
    "knife": "sword",
    "wand": "sword",
    "staff": "sword",
    "armor": "shield",
    "armour": "shield",
    "suitcase": "chest",
    "safe": "chest",
    "wall": "fence",
    "signpost": "street_lamp",
    "pole": "street_lamp",
    "church": "house",
    "temple": "house",
    "shop": "house",
    "windmill": "tower",
    "chimney": "tower",
    "pillar": "tower",
    "column": "tower",
    "obelisk": "tower",
    "statue": "rock",
    "sculpture": "vase",
}


@dataclass
class Understanding:
    """What the matcher made of a prompt: the spec, the words that named the category, and notes."""

    spec: ObjectSpec
    named_by: str
    notes: list[str]


def _tokens(prompt: str) -> list[str]:
    text = prompt.lower().replace("low-poly", "lowpoly").replace("low poly", "lowpoly")
    return re.findall(r"\d+(?:\.\d+)?|[a-z]+", text)


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxh":
        return word[:-2]
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def phrase_index() -> dict[tuple[str, ...], str]:
    """Every name a category goes by (its own, its synonyms), as token tuples."""
    index: dict[tuple[str, ...], str] = {}
    for category, made in catalogue().items():
        for name in (category.replace("_", " "), *made.synonyms):
            index.setdefault(tuple(name.split()), category)
    return index


def _matches(tokens: list[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, length, category)`` matches, the longest at each position, left to right."""
    index = phrase_index()
    found, i = [], 0
    while i < len(tokens):
        for length in (3, 2, 1):
            words = tuple(tokens[i : i + length])
            hit = index.get(words) or index.get((*words[:-1], _singular(words[-1]))) if len(words) == length else None
            if hit:
                found.append((i, length, hit))
                i += length
                break
        else:
            i += 1
    return found


def _nearest(words: list[str]) -> tuple[str, str] | None:
    """The category closest to a word the factories do not know: a related object, else a near spelling."""
    index = phrase_index()
    vocabulary = {name[0]: category for name, category in index.items() if len(name) == 1}
    for word in words:
        if word in RELATED:
            return word, RELATED[word]
        if _singular(word) in RELATED:
            return word, RELATED[_singular(word)]
    for word in words:
        close = difflib.get_close_matches(word, list(vocabulary), n=1, cutoff=0.8)
        if close:
            return word, vocabulary[close[0]]
    return None


def _semantic_nearest(words: list[str], notes: list[str]) -> tuple[str, str] | None:
    """The sentence model's nearest category for the words that are no attribute; its guess goes in the notes."""
    from shared.objects.semantic import nearest_category

    attributes = (
        COLOURS.keys()
        | MATERIAL_WORDS.keys()
        | SCALE_WORDS.keys()
        | STRETCH_WORDS.keys()
        | WIDEN_WORDS.keys()
        | FLAG_WORDS.keys()
        | UNITS.keys()
    )
    nouns = [w for w in words if w not in attributes]
    found = nearest_category(" ".join(nouns)) if nouns else None
    if found is None:
        return None
    category, similarity = found
    notes.append(
        f"no factory makes {' '.join(nouns)!r}: the sentence model's nearest category is "
        f"{category.replace('_', ' ')!r} (similarity {similarity:.2f})"
    )
    return nouns[-1], category


def _size_target(tokens: list[str]) -> tuple[float, str] | None:
    """An explicit size ("1.5 m", "30cm", "5 km"): metres and the words as written."""
    for number, unit in itertools.pairwise(tokens):
        if re.fullmatch(r"\d+(?:\.\d+)?", number) and unit in UNITS:
            return float(number) * UNITS[unit], f"{number} {unit}"
    return None


def _dress(spec: ObjectSpec, made: Factory, role: str | None, colour: str | None, preset: str | None) -> None:
    """Apply a material and/or colour to one role, or (``None``) to every role of the main material."""
    if role is None:
        main = made.roles[made.main_role]
        roles = [r for r, value in made.roles.items() if value == main]
    else:
        roles = [role]
    for name in roles:
        current: Material = MATERIALS[preset] if preset else spec.materials[name]
        spec.materials[name] = current.tinted(COLOURS[colour]) if colour else current


def understand(prompt: str, seed: int, detail: str = "standard", semantic: bool = False) -> Understanding:
    """The spec a prompt asks for; ``InvalidRequest`` when it names nothing a factory can make.

    ``semantic``: when no word names a category, ask the sentence model (``shared.objects.semantic``)
    before giving up."""
    tokens = _tokens(prompt)
    if not any(t.isalpha() for t in tokens):
        raise InvalidRequest("the prompt has no words to make an object from")
    notes: list[str] = []
    matches = _matches(tokens)
    cut = next((i for i, t in enumerate(tokens) if t in CUT_WORDS and i > 0), len(tokens))
    head = [m for m in matches if m[0] < cut]
    chosen = head[-1] if head else (matches[0] if matches else None)
    content = [t for t in tokens if t.isalpha() and t not in STOPWORDS]
    guessed_from: set[str] = set()  # words a sentence-model guess was made from: used, not unplaced
    if chosen is None:
        nearest = _nearest(content)
        if nearest is not None:
            word, category = nearest
            notes.append(f"no factory makes {word!r}: made the nearest category, {category.replace('_', ' ')!r}")
        elif semantic and (nearest := _semantic_nearest(content, notes)) is not None:
            word, category = nearest
            guessed_from = set(content)
        else:
            raise InvalidRequest(
                f"no object this server can make was recognised in {prompt!r}; it makes: "
                f"{', '.join(c.replace('_', ' ') for c in catalogue())}"
            )
        chosen = (tokens.index(word), 1, category)
    start, length, category = chosen
    made = catalogue()[category]
    spec = default_spec(category, seed, detail)
    named_by = " ".join(tokens[start : start + length])
    span = set(range(start, start + length))

    for word in (named_by, *(tokens[i] for i in sorted(span))):
        spec.params.update(made.styles.get(word, {}))
    pending_colour: str | None = None
    pending_material: str | None = None
    unplaced: list[str] = []
    dressing: set[int] = set()
    for i, token in enumerate(tokens):
        role = made.role_words.get(token) or made.role_words.get(_singular(token))
        if i in span or role:
            if pending_colour or pending_material:
                _dress(spec, made, None if i in span else role, pending_colour, pending_material)
            pending_colour = pending_material = None
            continue
        if token in MATERIAL_WORDS:  # before colours: "gold", "silver" are metals, not paint
            pending_material = MATERIAL_WORDS[token]
            dressing.add(i)
        elif token in COLOURS:
            pending_colour = token
            dressing.add(i)
        elif token in SCALE_WORDS:
            spec.scale *= SCALE_WORDS[token]
        elif token in STRETCH_WORDS:
            spec.stretch *= STRETCH_WORDS[token]
        elif token in WIDEN_WORDS:
            spec.widen *= WIDEN_WORDS[token]
        elif token in FLAG_WORDS:
            spec.flags = tuple(sorted({*spec.flags, FLAG_WORDS[token]}))
        elif token == "lowpoly":
            spec.detail = "low"
        elif token in made.styles:
            spec.params.update(made.styles[token])
        elif (
            token.isalpha()
            and token not in STOPWORDS
            and token not in UNITS
            and token not in guessed_from
            and not any(i in range(s, s + n) for s, n, _ in matches)
        ):
            unplaced.append(token)
    if pending_colour or pending_material:
        _dress(spec, made, None, pending_colour, pending_material)
    if unplaced:
        notes.append(f"words not used to shape the {named_by}: {', '.join(dict.fromkeys(unplaced))}")
    others = sorted({c for s, _, c in matches if c != category and s not in dressing})
    if others:
        notes.append(f"made a {named_by} ({category}); also named: {', '.join(o.replace('_', ' ') for o in others)}")
    _apply_size(prompt, tokens, spec, made, notes)
    return Understanding(spec, named_by, notes)


def _apply_size(prompt: str, tokens: list[str], spec: ObjectSpec, made: Factory, notes: list[str]) -> None:
    """An explicit size sets the largest dimension: clamped into the category's range with a note when a
    little out of it; refused when it is absurd (more than 4x beyond), as no such object exists."""
    target = _size_target(tokens)
    low, high = made.size
    if target is None:
        spec.scale = max(0.3, min(spec.scale, 2.5))
        return
    metres, written = target
    if not low / 4 <= metres <= high * 4:
        raise InvalidRequest(
            f"{written} is not a size a {made.category.replace('_', ' ')} comes in "
            f"({low:g} to {high:g} m); asked for in {prompt!r}"
        )
    if not low <= metres <= high:
        clamped = min(max(metres, low), high)
        notes.append(f"{written} is outside the {made.category.replace('_', ' ')} range; made it {clamped:g} m")
        metres = clamped
    low_corner, high_corner = build(replace(spec, scale=1.0, detail="low")).bounds
    spec.scale = metres / float(max(high_corner - low_corner))
