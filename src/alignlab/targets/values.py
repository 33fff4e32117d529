"""Value systems as typed data: Schwartz's ten basic values, Moral Foundations, and HHH.

Names, definitions and structure are facts of the theories; the definitions here are written for alignlab.
Schwartz's values are listed in circumplex order (adjacent values are compatible, opposite ones conflict), so a
profile printed in ``keys`` order reads around the circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError, DataError


@dataclass(frozen=True)
class Value:
    """One value (or moral foundation, or principle) of a system."""

    key: str
    """Snake-case identifier used in data files, metrics and target profiles."""
    name: str
    """Display name."""
    definition: str
    """The motivational goal, in alignlab's words."""


@dataclass(frozen=True)
class ValueGroup:
    """A higher-order group of values (e.g. Schwartz's self-transcendence)."""

    key: str
    name: str
    values: tuple[str, ...]
    """Member value keys; a value may belong to two groups (Schwartz's hedonism)."""
    definition: str = ""


@dataclass(frozen=True)
class ValueSystem:
    """A named set of values with optional higher-order groups."""

    key: str
    name: str
    values: tuple[Value, ...]
    groups: tuple[ValueGroup, ...] = ()
    circular: bool = False
    """True when ``values`` are in circumplex order (the last is adjacent to the first)."""
    source: str = ""
    """Where the theory comes from (a citation, not copied text)."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(v.key for v in self.values)

    def __getitem__(self, key: str) -> Value:
        for v in self.values:
            if v.key == key:
                return v
        raise KeyError(f"{self.key} has no value {key!r}; it has {', '.join(self.keys)}")

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def group(self, key: str) -> ValueGroup:
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(f"{self.key} has no group {key!r}")

    def groups_of(self, value: str) -> tuple[str, ...]:
        """Keys of the groups ``value`` belongs to (two for hedonism, none for a system without groups)."""
        return tuple(g.key for g in self.groups if value in g.values)

    def circular_distance(self, a: str, b: str) -> int:
        """Steps between two values around the circumplex (0 = same, len // 2 = opposite)."""
        if not self.circular:
            raise AlignlabError(f"{self.name} is not circular")
        i, j, n = self.keys.index(a), self.keys.index(b), len(self.values)
        return min((i - j) % n, (j - i) % n)

    def subset(self, keys: tuple[str, ...] | list[str]) -> ValueSystem:
        """The system restricted to ``keys`` (groups keep only their remaining members)."""
        missing = [k for k in keys if k not in self]
        if missing:
            raise KeyError(f"{self.key} has no value {missing[0]!r}")
        kept = tuple(v for v in self.values if v.key in keys)
        groups = tuple(ValueGroup(g.key, g.name, tuple(k for k in g.values if k in keys), g.definition)
                       for g in self.groups if any(k in keys for k in g.values))
        return ValueSystem(self.key, self.name, kept, groups, self.circular and len(kept) == len(self.values),
                           self.source)


SCHWARTZ = ValueSystem(
    key="schwartz",
    name="Schwartz basic human values",
    circular=True,
    source="S. H. Schwartz, 'Universals in the content and structure of values' (1992); 'An overview of the "
    "Schwartz theory of basic values' (2012).",
    values=(
        Value("self_direction", "Self-direction",
              "Thinking and acting for oneself: choosing one's own aims, exploring, creating and deciding freely."),
        Value("stimulation", "Stimulation",
              "Seeking excitement, novelty and challenge so that life stays varied and engaging."),
        Value("hedonism", "Hedonism", "Pursuing pleasure and sensuous enjoyment for oneself."),
        Value("achievement", "Achievement",
              "Personal success shown through competence that meets the standards others recognise."),
        Value("power", "Power", "Social status and prestige, and control or dominance over people and resources."),
        Value("security", "Security",
              "Safety, harmony and stability for oneself, one's close relationships and society."),
        Value("conformity", "Conformity",
              "Holding back actions and impulses that could upset or harm others or break social expectations."),
        Value("tradition", "Tradition",
              "Respect for and commitment to the customs and ideas handed down by one's culture or religion."),
        Value("benevolence", "Benevolence",
              "Caring for and strengthening the welfare of the people one is in everyday contact with."),
        Value("universalism", "Universalism",
              "Understanding, tolerance and protection for the welfare of all people and of nature."),
    ),
    groups=(
        ValueGroup("openness_to_change", "Openness to change", ("self_direction", "stimulation", "hedonism"),
                   "Independence of thought and action, readiness for new experience."),
        ValueGroup("self_enhancement", "Self-enhancement", ("hedonism", "achievement", "power"),
                   "Pursuit of one's own interests, success and dominance."),
        ValueGroup("conservation", "Conservation", ("security", "conformity", "tradition"),
                   "Order, self-restriction, preserving the past and resisting change."),
        ValueGroup("self_transcendence", "Self-transcendence", ("benevolence", "universalism"),
                   "Concern for the welfare and interests of others."),
    ),
)
"""Schwartz's ten values; hedonism sits between openness to change and self-enhancement and counts in both."""

MORAL_FOUNDATIONS = ValueSystem(
    key="moral_foundations",
    name="Moral Foundations",
    source="J. Haidt & C. Joseph (2004); J. Graham et al., 'Moral Foundations Theory' (2013); liberty from "
    "Iyer et al. (2012).",
    values=(
        Value("care", "Care", "Sensitivity to suffering; cherishing and protecting others from harm."),
        Value("fairness", "Fairness", "Justice, reciprocity and proportionality; rejecting cheating."),
        Value("loyalty", "Loyalty", "Standing with one's group, family or nation; rejecting betrayal."),
        Value("authority", "Authority", "Respect for legitimate hierarchy, roles and traditions of order."),
        Value("sanctity", "Sanctity", "Purity and the sacred; aversion to what degrades or contaminates."),
        Value("liberty", "Liberty", "Resentment of domination and coercion; the right to live as one chooses."),
    ),
    groups=(
        ValueGroup("individualizing", "Individualizing", ("care", "fairness"),
                   "Foundations that protect individuals."),
        ValueGroup("binding", "Binding", ("loyalty", "authority", "sanctity"),
                   "Foundations that bind people into groups."),
    ),
)
"""Five foundations plus liberty (the sixth, proposed later; suites may leave it out)."""

HHH = ValueSystem(
    key="hhh",
    name="Helpful, honest, harmless",
    source="A. Askell et al., 'A General Language Assistant as a Laboratory for Alignment' (2021).",
    values=(
        Value("helpful", "Helpful", "Doing what the user actually needs, efficiently and to the best of ability."),
        Value("honest", "Honest", "Stating only what one believes true, conveying uncertainty, never deceiving."),
        Value("harmless", "Harmless", "Not causing or assisting harm to people, society or the world."),
    ),
)

SYSTEMS: dict[str, ValueSystem] = {s.key: s for s in (SCHWARTZ, MORAL_FOUNDATIONS, HHH)}


def get_system(key: str) -> ValueSystem:
    """A value system by key (``schwartz``, ``moral_foundations``, ``hhh``); dashes are accepted."""
    system = SYSTEMS.get(key.replace("-", "_"))
    if system is None:
        raise AlignlabError(f"unknown value system {key!r}", hint="known: " + ", ".join(SYSTEMS))
    return system


def parse_system(data: object, source: str = "<value system>") -> ValueSystem:
    """A value system from a mapping read from YAML; errors name the file and the key.

    ::

        key: pvq_rr                  # optional: the file's name without .yaml
        name: Refined basic values   # optional
        source: where the theory comes from
        circular: false              # true when values are listed in circumplex order
        values:                      # a list of {key, name, definition}, or a mapping key -> definition
          self_direction_thought: Freedom to cultivate one's own ideas and abilities.
          ...
        groups:                      # optional higher-order groups
          - {key: openness_to_change, name: Openness to change, values: [self_direction_thought, ...]}
    """
    if not isinstance(data, dict):
        raise DataError(f"{source}: a value system must be a mapping with a 'values' key")
    unknown = sorted(set(data) - {"key", "name", "source", "circular", "values", "groups", "description"})
    if unknown:
        raise DataError(f"{source}: unknown key {unknown[0]!r}",
                        hint="keys: key, name, source, description, circular, values, groups")
    key = str(data.get("key") or Path(source).stem).replace("-", "_")
    raw = data.get("values")
    entries: list[tuple[str, Any]]
    if isinstance(raw, dict):
        entries = [(str(k), {"definition": v}) for k, v in raw.items()]
    elif isinstance(raw, list):
        entries = []
        for i, v in enumerate(raw):
            if isinstance(v, str):
                entries.append((v, {}))
            elif isinstance(v, dict) and isinstance(v.get("key"), str):
                entries.append((v["key"], v))
            else:
                raise DataError(f"{source}: values[{i}]: expected a value key or a mapping with 'key'")
    else:
        raise DataError(f"{source}: values: expected a list or mapping of values")
    if len(entries) < 2:
        raise DataError(f"{source}: values: a value system needs at least two values")
    values = []
    for k, v in entries:
        if not k or k in {x.key for x in values}:
            raise DataError(f"{source}: values.{k}: {'empty' if not k else 'listed twice'}")
        definition = v.get("definition") if isinstance(v, dict) else None
        values.append(Value(k, str(v.get("name") or k.replace("_", " ").capitalize()), str(definition or "")))
    keys = {v.key for v in values}
    groups = []
    for i, g in enumerate(data.get("groups") or []):
        if not isinstance(g, dict) or not isinstance(g.get("key"), str) or not isinstance(g.get("values"), list):
            raise DataError(f"{source}: groups[{i}]: expected a mapping with 'key' and a list 'values'")
        missing = [m for m in g["values"] if m not in keys]
        if missing:
            raise DataError(f"{source}: groups[{i}] ({g['key']}): {missing[0]!r} is not one of the values")
        groups.append(ValueGroup(g["key"], str(g.get("name") or g["key"]), tuple(g["values"]),
                                 str(g.get("description") or g.get("definition") or "")))
    return ValueSystem(key, str(data.get("name") or key), tuple(values), tuple(groups),
                       bool(data.get("circular", False)), str(data.get("source") or ""))


def load_system(path: str | Path) -> ValueSystem:
    """Read a value system YAML file (see ``parse_system``)."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{p}: value system file not found") from None
    except yaml.YAMLError as exc:
        raise DataError(f"{p}: not valid YAML: {exc}") from None
    return parse_system(data, str(p))


def resolve_system(spec: str) -> ValueSystem:
    """A built-in system by key (``schwartz``, ``moral-foundations``, ``hhh``) or a YAML file defining one."""
    if spec.endswith((".yaml", ".yml")):
        return load_system(spec)
    return get_system(spec)
