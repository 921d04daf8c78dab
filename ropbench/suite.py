"""Suite files: TOML naming what to compare, read and validated into a :class:`Suite`.

A suite names generators, architectures, explainers and metrics (globs allowed), the
image size, images per split, training settings and seeds. An entry is either a name
(or glob) or an inline table ``{ name = "gap-cnn", label = "gap-cnn-guided",
params = {...}, training = {...} }``; ``label`` is the name shown in results, so one
plugin can appear twice with different parameters. Every error names the file, the key
and what was expected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ropbench.errors import RopbenchError, did_you_mean
from ropbench.params import param_type_error
from ropbench.registry import Registry, SpecTable
from ropbench.regression import validate_tolerances
from ropbench.shipped_suites import shipped_suites
from ropbench.training.config import TrainingConfig, TrainingConfigError, validate_training

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SuiteError",
    "Entry",
    "DataCounts",
    "ScoringConfig",
    "Suite",
    "load_suite",
    "shipped_suites",
    "resolve_suite_path",
    "narrow",
]

TOP_LEVEL_KEYS = {
    "name", "description", "seeds", "image_size", "generators", "architectures",
    "explainers", "metrics", "reporters", "data", "training", "scoring", "tolerances",
}
ENTRY_KEYS = {"name", "label", "params", "training"}
SCORING_KEYS = {"target", "bootstrap_resamples", "explain_batch_size", "max_explained"}
LOCALIZATION_TARGETS = ("region", "vessels")
DEFAULT_REPORTERS = ("markdown", "csv")
MAX_IMAGE_SIZE = 1024


class SuiteError(RopbenchError):
    """A suite file that cannot be used; the message names file, key and expectation."""

    def __init__(self, source: str, key: str, expected: str, got: object = None) -> None:
        detail = "" if got is None else f", got {got!r}"
        super().__init__(f"{source}: {key}: expected {expected}{detail}")


def _check_param_types(source: str, key: str, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """A plugin parameter must have its default's type (an integer passes for a number;
    a parameter whose default is None takes anything)."""
    for name, value in given.items():
        problem = param_type_error(name, value, defaults)
        if problem:
            raise SuiteError(source, f"{key}.{name}", problem, value)


@dataclass(frozen=True)
class Entry:
    """One chosen plugin: registered ``name``, result ``label``, resolved ``params``."""

    name: str
    label: str
    version: str
    params: Mapping[str, Any]
    training: Mapping[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """What about this entry determines outputs (the label is presentation only)."""
        return {"name": self.name, "version": self.version, "params": dict(self.params)}


@dataclass(frozen=True)
class DataCounts:
    """Images per split; half of each split healthy, half ROP, for synthetic generators."""

    train: int
    val: int
    test: int


@dataclass(frozen=True)
class ScoringConfig:
    """:param target: localization target, ``region`` (tortuous region) or ``vessels``.
    :param bootstrap_resamples: resamples for the 95% CI over images.
    :param explain_batch_size: images per explainer call.
    :param max_explained: explain at most this many ROP test images (0 = all).
    """

    target: str = "region"
    bootstrap_resamples: int = 1000
    explain_batch_size: int = 16
    max_explained: int = 0


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    source: str
    seeds: tuple[int, ...]
    image_size: int
    data: DataCounts
    training: TrainingConfig
    scoring: ScoringConfig
    generators: tuple[Entry, ...]
    architectures: tuple[Entry, ...]
    explainers: tuple[Entry, ...]
    metrics: tuple[Entry, ...]
    reporters: tuple[Entry, ...]
    tolerances: Mapping[str, Any]

    def resolved(self) -> dict[str, Any]:
        """The fully resolved suite, JSON-able, for the manifest."""
        from dataclasses import asdict

        return asdict(self)


def resolve_suite_path(name_or_path: str) -> Path:
    """A shipped suite's name (``smoke``) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if path.is_dir():
            raise RopbenchError(f"suite file {path} is a directory; give a .toml file or a shipped suite's name")
        if not path.is_file():
            raise RopbenchError(f"suite file {path} does not exist")
        return path
    shipped = shipped_suites()
    if name_or_path not in shipped:
        raise RopbenchError(f"unknown suite {name_or_path!r}; {did_you_mean(name_or_path, shipped)}")
    return shipped[name_or_path]


def _positive_int(source: str, key: str, value: object, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SuiteError(source, key, f"an integer >= {low}", value)
    return value


def _check_params(source: str, key: str, given: object, defaults: Mapping[str, Any]) -> dict:
    if not isinstance(given, Mapping):
        raise SuiteError(source, key, "a table of parameters", given)
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise SuiteError(
            source, f"{key}.{unknown[0]}",
            f"one of the plugin's parameters ({did_you_mean(unknown[0], defaults)})",
        )
    return {**defaults, **given}


def _validate_params(source: str, key: str, spec: Any, params: Mapping[str, Any]) -> None:
    """The spec's own check of its merged parameters (``PluginSpec.validate_params``)."""
    if spec.validate_params is None:
        return
    try:
        spec.validate_params(params)
    except (ValueError, RopbenchError) as error:
        raise SuiteError(source, key, f"parameters {spec.name!r} accepts ({error})") from None


def _entries(source: str, key: str, raw: object, table: SpecTable, *, training_ok: bool) -> tuple[Entry, ...]:
    if not isinstance(raw, list) or not raw:
        raise SuiteError(source, key, "a non-empty list of names, globs or tables", raw)
    entries: list[Entry] = []
    for position, item in enumerate(raw):
        where = f"{key}[{position}]"
        if isinstance(item, str):
            try:
                specs = table.select([item])
            except RopbenchError as error:
                raise SuiteError(source, where, f"a registered {table.family} name or glob ({error})") from None
            entries += [Entry(s.name, s.name, s.version, dict(s.params)) for s in specs]
            continue
        if not isinstance(item, Mapping):
            raise SuiteError(source, where, "a name, a glob or an inline table", item)
        allowed = ENTRY_KEYS if training_ok else ENTRY_KEYS - {"training"}
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise SuiteError(source, f"{where}.{unknown[0]}", f"one of {sorted(allowed)}")
        name = item.get("name")
        if not isinstance(name, str):
            raise SuiteError(source, f"{where}.name", "a registered name", name)
        try:
            spec = table.get(name)
        except RopbenchError as error:
            raise SuiteError(source, f"{where}.name", f"a registered {table.family} name ({error})") from None
        params = _check_params(source, f"{where}.params", item.get("params", {}), spec.params)
        _check_param_types(source, f"{where}.params", item.get("params", {}), spec.params)
        _validate_params(source, f"{where}.params", spec, params)
        training = item.get("training", {})
        _check_params(source, f"{where}.training", training, {k: None for k in TrainingConfig.field_names()})
        _training(source, f"{where}.training", training)
        label = item.get("label", name)
        if not isinstance(label, str) or not label:
            raise SuiteError(source, f"{where}.label", "a non-empty string", label)
        entries.append(Entry(spec.name, label, spec.version, params, dict(training)))
    labels = [e.label for e in entries]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise SuiteError(source, key, f"distinct labels (give one entry a 'label'); repeated: {repeated[0]!r}")
    return tuple(entries)


def _training(source: str, key: str, values: Mapping[str, Any], base: TrainingConfig | None = None) -> TrainingConfig:
    try:
        return validate_training(values, base)
    except TrainingConfigError as error:
        raise SuiteError(source, f"{key}.{error.key}", str(error)[0].lower() + str(error)[1:], error.value) from None


def load_suite(name_or_path: str, registry: Registry) -> Suite:
    """Read, validate and resolve a suite against the registered plugins."""
    path = resolve_suite_path(name_or_path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SuiteError(source, "(syntax)", "valid TOML", str(error)) from None
    return parse_suite(raw, source, registry)


def parse_suite(raw: Mapping[str, Any], source: str, registry: Registry) -> Suite:
    """Validate an already-parsed suite mapping."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise SuiteError(source, unknown[0], f"one of the suite keys ({did_you_mean(unknown[0], TOP_LEVEL_KEYS)})")
    for required in ("name", "seeds", "image_size", "generators", "architectures", "metrics", "data"):
        if required not in raw:
            raise SuiteError(source, required, "this key to be present")
    name = raw["name"]
    if not isinstance(name, str) or not name:
        raise SuiteError(source, "name", "a non-empty string", name)
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not seeds:
        raise SuiteError(source, "seeds", "a non-empty list of integers", seeds)
    seeds_t = tuple(_positive_int(source, f"seeds[{i}]", s, allow_zero=True) for i, s in enumerate(seeds))
    if len(set(seeds_t)) != len(seeds_t):
        raise SuiteError(source, "seeds", "distinct seeds", seeds)
    image_size = _positive_int(source, "image_size", raw["image_size"])
    if image_size < 16:
        raise SuiteError(source, "image_size", "at least 16 pixels", image_size)
    if image_size > MAX_IMAGE_SIZE:
        # 2000 retinas at 4096 px would need ~400 GB as float vessel planes alone.
        raise SuiteError(source, "image_size", f"at most {MAX_IMAGE_SIZE} pixels", image_size)

    data = raw["data"]
    if not isinstance(data, Mapping) or set(data) != {"train", "val", "test"}:
        raise SuiteError(source, "data", "a table with exactly train, val and test", dict(data) if isinstance(data, Mapping) else data)
    counts = DataCounts(*(_positive_int(source, f"data.{k}", data[k]) for k in ("train", "val", "test")))

    training_raw = raw.get("training", {})
    defaults = TrainingConfig()
    _check_params(source, "training", training_raw, {k: getattr(defaults, k) for k in TrainingConfig.field_names()})
    training = _training(source, "training", training_raw)

    scoring_raw = raw.get("scoring", {})
    scoring_values = _check_params(source, "scoring", scoring_raw, ScoringConfig().__dict__)
    if scoring_values["target"] not in LOCALIZATION_TARGETS:
        raise SuiteError(source, "scoring.target", f"one of {list(LOCALIZATION_TARGETS)}", scoring_values["target"])
    for key in ("bootstrap_resamples", "explain_batch_size", "max_explained"):
        _positive_int(source, f"scoring.{key}", scoring_values[key], allow_zero=key == "max_explained")
    scoring = ScoringConfig(**scoring_values)

    reporters = _entries(source, "reporters", raw.get("reporters", list(DEFAULT_REPORTERS)), registry.reporters,
                         training_ok=False)

    tolerances = validate_tolerances(raw.get("tolerances", {}), source, set(registry.metrics))

    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SuiteError(source, "description", "a string", description)

    explainers = (_entries(source, "explainers", raw["explainers"], registry.explainers, training_ok=False)
                  if raw.get("explainers", []) != [] else ())
    metrics = _entries(source, "metrics", raw["metrics"], registry.metrics, training_ok=False)
    if not explainers:
        needing = [m.name for m in metrics if registry.metrics.get(m.name).kind != "classification"]
        if needing:
            raise SuiteError(source, "explainers", f"at least one explainer, since metrics {needing[:3]} score heatmaps "
                             "(or drop them from metrics)")
    return Suite(
        name=name,
        description=description,
        source=source,
        seeds=seeds_t,
        image_size=image_size,
        data=counts,
        training=training,
        scoring=scoring,
        generators=_entries(source, "generators", raw["generators"], registry.generators, training_ok=False),
        architectures=_entries(source, "architectures", raw["architectures"], registry.architectures, training_ok=True),
        explainers=explainers,
        metrics=metrics,
        reporters=reporters,
        tolerances=dict(tolerances),
    )


def narrow(
    suite: Suite,
    *,
    generators: list[str] | None = None,
    architectures: list[str] | None = None,
    explainers: list[str] | None = None,
    seeds: list[int] | None = None,
) -> Suite:
    """The suite restricted to entries whose labels match the given globs (CLI filters)."""
    import fnmatch
    from dataclasses import replace

    def keep(key: str, entries: tuple[Entry, ...], patterns: list[str] | None) -> tuple[Entry, ...]:
        if not patterns:
            return entries
        kept = tuple(e for e in entries if any(fnmatch.fnmatchcase(e.label, p) for p in patterns))
        if not kept:
            labels = [e.label for e in entries]
            raise RopbenchError(
                f"--{key} {' '.join(patterns)} matches none of the suite's {key}s; "
                f"{did_you_mean(patterns[0], labels)}"
            )
        return kept

    # Seeds may differ from the suite's: the manifest records the seeds actually run.
    if seeds and any(seed < 0 for seed in seeds):
        raise RopbenchError(f"--seeds must be integers >= 0 (as in a suite file), got {seeds}")
    chosen_seeds = tuple(dict.fromkeys(seeds)) if seeds else suite.seeds
    return replace(
        suite,
        generators=keep("generator", suite.generators, generators),
        architectures=keep("arch", suite.architectures, architectures),
        explainers=keep("explainer", suite.explainers, explainers),
        seeds=chosen_seeds,
    )
