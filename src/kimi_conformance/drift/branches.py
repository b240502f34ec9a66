"""Which branch of a union in the old document is which branch in the new one: matched by identity, never by
position, so a reordering is no change and a change inside a branch is reported under its name.

Identity, strongest first:

1. The discriminating values: a property (the discriminator's `propertyName`, else one that every branch of
   both documents limits to disjoint strings, `model` preferred) and the values each branch takes for it
   (its `enum`/`const`, else the discriminator `mapping` keys that name its `$ref`, else the implicit name,
   the referenced schema's). Branches sharing a value are the same, whatever else changed: a family that
   gains a model id is still that family, a family split in two is compared with both halves. A branch whose
   values are all new is new, even if another was dropped: a client that sent the old values now fails.
2. The `title`, for branches without such values.
3. Structure, for the rest: the share of features (types, property names, item types, values) two branches
   have in common, best pairs first, at least a third and never across types that share no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_conformance.drift.documents import reference_of
from kimi_conformance.drift.keywords import allows, enum_values, flatten, mapping, types, unions

MIN_SIMILARITY = 1 / 3
"""The share of features two branches must have in common to be matched by structure."""
MAX_COMPARED = 10_000
"""Branch pairs weighed for structure; past it (a hostile union of thousands of branches) only branches with
the same features are matched, so the time stays linear in the size of the documents."""


@dataclass(frozen=True, slots=True)
class Branch:
    """One branch of a union: its schema (`allOf` merged), the values that identify it, and its name."""

    schema: dict[str, Any]
    index: int
    values: tuple[str, ...]
    title: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Matching:
    """The branches of two unions paired (a branch may pair with several, when a family splits or merges),
    and those only one document has. `tag` is the discriminating property, if any."""

    tag: str | None
    olds: list[Branch]
    news: list[Branch]
    pairs: list[tuple[Branch, Branch]]
    removed: list[Branch]
    added: list[Branch]


def _strings(values: list[Any] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values or [] if isinstance(v, str)))


def _property(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return mapping(flatten(mapping(schema.get("properties")).get(name)))


def _discriminator(union: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The discriminator's property name and its mapping as value -> `$ref`."""
    found = mapping(union.get("discriminator"))
    name = found.get("propertyName")
    refs = {key: ref if ref.startswith("#") else f"#/components/schemas/{ref}"
            for key, ref in mapping(found.get("mapping")).items() if isinstance(ref, str)}  # fmt: skip
    return (name if isinstance(name, str) else None), refs


def _tags(schemas: list[dict[str, Any]]) -> set[str]:
    """The properties every branch limits to strings, no string shared by two branches."""
    if not schemas:
        return set()
    candidates = set(mapping(schemas[0].get("properties")))
    for schema in schemas[1:]:
        candidates &= set(mapping(schema.get("properties")))
    tags = set()
    for name in candidates:
        seen: set[str] = set()
        for schema in schemas:
            values = set(_strings(enum_values(_property(schema, name))))
            if not values or values & seen:
                break
            seen |= values
        else:
            tags.add(name)
    return tags


def _tag(
    old: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]], news: list[dict[str, Any]]
) -> str | None:
    """The discriminating property: a discriminator's, else a tag of both documents' branches (`model` first)."""
    for union in (new, old):
        name, _ = _discriminator(union)
        if name is not None:
            return name
    shared = _tags(olds) & _tags(news)
    return "model" if "model" in shared else min(shared, default=None)


def one_branch_of(union: dict[str, Any], single: dict[str, Any]) -> bool:
    """Whether `single` is one branch of `union` written alone (the text part of a text-only family against a
    union of text, image and video parts): its discriminating values all lie in one branch. A single schema
    whose values span several branches is the union written as one object, and is compared as its envelope."""
    key = unions(union)[0]
    flat = [s for s in (flatten(item) for item in union[key]) if isinstance(s, dict)]
    tag = _tag(union, union, flat, flat)
    values = set(_strings(enum_values(_property(single, tag)))) if tag else set()
    holders = [branch for branch in _branches(union, union[key], tag) if values & set(branch.values)]
    return len(holders) == 1


def _branches(union: dict[str, Any], items: list[Any], tag: str | None) -> list[Branch]:
    name, refs = _discriminator(union)
    found: list[Branch] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        schema = flatten(item)
        if not isinstance(schema, dict):
            continue
        ref = reference_of(item)
        values = _strings(enum_values(_property(schema, tag))) if tag else ()
        if tag and not values and name == tag and ref is not None:
            values = tuple(key for key, target in refs.items() if target == ref) or (ref.rsplit("/", 1)[-1],)
        title = schema.get("title") if isinstance(schema.get("title"), str) else None
        named = (title, ref.rsplit("/", 1)[-1] if ref else None, *values[:1], ",".join(sorted(types(schema))))
        label = next((_label(text) for text in named if text and _label(text)), "schema")
        found.append(Branch(schema, index, values, title, label))
    counts: dict[str, int] = {}
    for branch in found:
        counts[branch.name] = counts.get(branch.name, 0) + 1
    return [Branch(b.schema, b.index, b.values, b.title, f"{b.name}#{b.index}") if counts[b.name] > 1 else b
            for b in found]  # fmt: skip


def _label(text: str) -> str:
    """`text` fit to name a branch in a pointer, a table and a line of JUnit: one line, at most 60 characters."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= 60 else line[:59] + "…"


def features(schema: dict[str, Any]) -> frozenset[str]:
    """What structural similarity compares: the types, property names, item types and string values."""
    found = {f"type:{'number' if kind == 'integer' else kind}" for kind in types(schema)}
    found |= {f"property:{name}" for name in mapping(schema.get("properties"))}
    items = flatten(schema.get("items"))
    found |= {f"items:{kind}" for kind in types(items)} if isinstance(items, dict) else set()
    found |= {f"value:{value}" for value in _strings(enum_values(schema))}
    return frozenset(found or {"any"})


def similarity(old: dict[str, Any], new: dict[str, Any]) -> float:
    """The share of features two branches have in common (0 for types no value has both)."""
    return _similarity((types(old), features(old)), (types(new), features(new)))


def _similarity(old: tuple[set[str], frozenset[str]], new: tuple[set[str], frozenset[str]]) -> float:
    (a, fa), (b, fb) = old, new
    if a and b and not any(allows(b, kind) for kind in a) and not any(allows(a, kind) for kind in b):
        return 0.0
    return len(fa & fb) / len(fa | fb)


def _by_structure(olds: list[Branch], news: list[Branch]) -> list[tuple[Branch, Branch]]:
    if len(olds) * len(news) > MAX_COMPARED:
        by_features: dict[frozenset[str], list[Branch]] = {}
        for branch in news:
            by_features.setdefault(features(branch.schema), []).append(branch)
        pairs = []
        for branch in olds:
            same = by_features.get(features(branch.schema))
            if same:
                pairs.append((branch, same.pop(0)))
        return pairs
    shapes = [[(types(b.schema), features(b.schema)) for b in side] for side in (olds, news)]
    scored = sorted((-_similarity(a, b), i, j) for i, a in enumerate(shapes[0]) for j, b in enumerate(shapes[1]))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for score, i, j in scored:
        if -score >= MIN_SIMILARITY and i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((olds[i], news[j]))
    return sorted(pairs, key=lambda pair: pair[0].index)


def _by_title(olds: list[Branch], news: list[Branch]) -> list[tuple[Branch, Branch]]:
    titled: dict[str, Branch] = {}
    for branch in news:
        if branch.title is not None:
            titled.setdefault(branch.title, branch)
    return [(branch, titled.pop(branch.title)) for branch in olds if branch.title in titled]


def match(old: dict[str, Any], old_key: str, new: dict[str, Any], new_key: str) -> Matching:
    """The branches of `old[old_key]` and `new[new_key]` (two flattened union schemas) matched by identity."""
    old_items, new_items = old[old_key], new[new_key]
    flat = [[s for s in (flatten(i) for i in items) if isinstance(s, dict)] for items in (old_items, new_items)]
    tag = _tag(old, new, flat[0], flat[1])
    olds, news = _branches(old, old_items, tag), _branches(new, new_items, tag)
    pairs: list[tuple[Branch, Branch]] = []
    if any(b.values for b in olds) and any(b.values for b in news):
        holding: dict[str, list[Branch]] = {}
        for branch in news:
            for value in branch.values:
                holding.setdefault(value, []).append(branch)
        for branch in olds:
            partners = {n.index: n for value in branch.values for n in holding.get(value, [])}
            pairs += [(branch, partner) for _, partner in sorted(partners.items())]
        untagged_old, untagged_new = [b for b in olds if not b.values], [b for b in news if not b.values]
    else:
        untagged_old, untagged_new = olds, news
    titled = _by_title(untagged_old, untagged_new)
    paired_old = {o.index for o, _ in titled}
    paired_new = {n.index for _, n in titled}
    rest_old = [b for b in untagged_old if b.index not in paired_old]
    rest_new = [b for b in untagged_new if b.index not in paired_new]
    pairs += titled + _by_structure(rest_old, rest_new)
    matched_old, matched_new = {o.index for o, _ in pairs}, {n.index for _, n in pairs}
    removed = [b for b in olds if b.index not in matched_old]
    added = [b for b in news if b.index not in matched_new]
    return Matching(tag, olds, news, pairs, removed, added)
