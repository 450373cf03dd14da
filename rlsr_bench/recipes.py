"""Recipe files: the one YAML reader (with line numbers) and the one override function.

Train recipes (``rlsr_bench.training.recipe``) and loop recipes (``rlsr_bench.loop.recipe``) are
YAML files in ``trainers/`` loaded into pydantic models. Both are read by ``read_yaml_model``:
the file is capped in size before it is parsed, a key given twice in one mapping is an error
(YAML would silently keep the last), and every validation error names the file, the line and
the field. Command-line flags override fields with dotted keys (``--set grpo.learning_rate=1e-5``)
through ``apply_overrides``, for either kind of recipe.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from rlsr_bench.errors import ConfigError, located
from rlsr_bench.paths import asset_dir

__all__ = [
    "MAX_RECIPE_BYTES",
    "RecipeModel",
    "TaskName",
    "YamlDocument",
    "apply_overrides",
    "config_error",
    "find_recipe",
    "is_number_hint",
    "number_from_yaml",
    "parse_set_options",
    "read_yaml",
    "read_yaml_model",
]

M = TypeVar("M", bound=BaseModel)

MAX_RECIPE_BYTES = 1 << 20  # 1 MiB: the shipped recipes are a few KB; checked before parsing


def _registered_task(task: str) -> str:
    """Return the canonical name of a registered task or alias (ValueError for an unknown one)."""
    from rlsr_bench.registry import get_task

    try:
        return get_task(task).name
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


# A recipe's task: any registered name or alias, stored as the canonical name.
TaskName = Annotated[str, AfterValidator(_registered_task)]


def is_number_hint(hint: Any) -> bool:
    """Whether a type hint wants a number (so a YAML ``true`` there is an error, not 1).

    >>> is_number_hint(int | None), is_number_hint(bool), is_number_hint(typing.Literal[1])
    (True, False, True)
    """
    if hint in (int, float):
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return is_number_hint(args[0])
    if origin in (typing.Union, types.UnionType):
        wanted = [arg for arg in args if arg is not type(None)]
        return bool(wanted) and all(is_number_hint(arg) for arg in wanted)
    if origin is typing.Literal:
        return all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    return False


class RecipeModel(BaseModel):
    """A section of a recipe: unknown fields are errors, and ``true`` is not the number 1."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: Any) -> Any:
        field = cls.model_fields.get(info.field_name)
        if isinstance(value, bool) and field is not None and is_number_hint(field.annotation):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


def number_from_yaml(value: Any) -> Any:
    """Read YAML 1.1's strings like ``1e-6`` (no dot: not a float to PyYAML) as numbers.

    >>> number_from_yaml("1e-6"), number_from_yaml("fast")
    (1e-06, 'fast')
    """
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def find_recipe(name: str | Path) -> Path:
    """Return the recipe file for a path, or for a name shipped in ``trainers/``.

    >>> find_recipe("countdown_smollm2_cpu").name
    'countdown_smollm2_cpu.yaml'
    """
    path = Path(name)
    if path.is_file():
        return path
    shipped = asset_dir("trainers")
    for candidate in (shipped / path.name, shipped / f"{path.name}.yaml"):
        if candidate.is_file():
            return candidate
    names = ", ".join(sorted(p.stem for p in shipped.glob("*.yaml")))
    raise ConfigError(f"{name}: recipe not found (a YAML file, or one of: {names})")


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the 1-based line of each dotted key path."""

    data: Any
    lines: dict[tuple[str, ...], int]


def _key_lines(
    source: object, node: yaml.Node, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], int]:
    """Map each key path of the YAML mappings to its line; a key given twice is an error."""
    lines: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            line = key_node.start_mark.line + 1
            if key in lines and key_node.tag != "tag:yaml.org,2002:merge":
                raise ConfigError(
                    located(
                        source, line, ".".join(key), f"given twice (first on line {lines[key]})"
                    )
                )
            lines[key] = line
            lines.update(_key_lines(source, value_node, key))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _key_lines(source, item, prefix)  # duplicate keys inside list items
    return lines


def read_yaml(path: Path, *, max_bytes: int = MAX_RECIPE_BYTES) -> YamlDocument:
    """Read a YAML file (size-capped, one parse) with the line of every key.

    ConfigError, naming the file (and the line where there is one), when the file is too
    large, unreadable, not UTF-8, not YAML or gives a key twice in one mapping.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(f"{path}: {size} bytes; a recipe is at most {max_bytes} bytes")
        with path.open("rb") as handle:  # the file may grow after stat: read at most the cap
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ConfigError(f"{path}: larger than {max_bytes} bytes")
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            lines = _key_lines(path, node) if node is not None else {}
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(located(path, line, None, f"invalid YAML ({exc})")) from None
    except RecursionError:
        raise ConfigError(located(path, None, None, "invalid YAML (nested too deeply)")) from None
    return YamlDocument(data, lines)


# "grpo.max_steps: expected ..." raised by a validator of the section 'grpo' (or of the whole
# recipe): the dotted path in the message names the field, and gives the line.
_DOTTED = re.compile(r"([A-Za-z_]\w*(?:\.[\w-]+)+): (.*)", re.S)


def config_error(
    source: object, error: ValidationError, lines: Mapping[tuple[str, ...], int]
) -> ConfigError:
    """Turn pydantic's errors into one ConfigError naming the file, line and field."""
    messages = []
    for item in error.errors():
        loc = tuple(str(part) for part in item["loc"])
        if loc and loc[-1].startswith("function-after"):
            loc = loc[:-1]
        text = item["msg"].removeprefix("Value error, ")
        dotted = _DOTTED.fullmatch(text)
        if dotted:  # a path from the section that raised it ("grpo.x" under "train.grpo"), or
            parts = tuple(dotted.group(1).split("."))  # from the root ("eval.pass_marks.x")
            if loc and parts[0] == loc[-1]:
                loc, text = loc[:-1] + parts, dotted.group(2)
            elif parts[: len(loc)] == loc:
                loc, text = parts, dotted.group(2)
        field = ".".join(loc) or None
        # The deepest key present in the file gives the line (a missing field has none).
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        if item["type"] == "extra_forbidden":
            text = "unknown field (check the spelling; see trainers/README.md)"
        messages.append(located(source, line, field, text))
    return ConfigError("\n".join(messages))


def read_yaml_model(path: Path, model: type[M], *, what: str = "recipe fields") -> M:
    """Read a YAML file into a pydantic model; errors name the file, line and field.

    The one reader of train and loop recipes (``what`` names the expected mapping).

    >>> from rlsr_bench.training.recipe import Recipe
    >>> read_yaml_model(find_recipe("countdown_smollm2_cpu"), Recipe).task
    'countdown'
    """
    document = read_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError(located(path, None, None, f"expected a mapping of {what}"))
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise config_error(path, exc, document.lines) from None


def parse_set_options(items: list[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are read as YAML scalars (numbers, booleans ...).

    >>> parse_set_options(["grpo.learning_rate=1e-5", "reward.kind=verifier"])
    {'grpo.learning_rate': 1e-05, 'reward.kind': 'verifier'}
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. grpo.max_steps=10")
        try:
            parsed[key.strip()] = number_from_yaml(yaml.safe_load(value)) if value.strip() else ""
        except yaml.YAMLError:
            parsed[key.strip()] = value
    return parsed


def apply_overrides(recipe: M, overrides: Mapping[str, Any], *, source: str = "--set") -> M:
    """Return a copy of ``recipe`` with dotted-key overrides applied and validated again.

    Used by ``train`` and ``loop`` alike. Only the fields the recipe set are kept (so fields a
    model derives or owns stay unset); a missing section is created; a key under a value that
    is not a section is an error.

    >>> from rlsr_bench.training.recipe import load_recipe
    >>> apply_overrides(load_recipe("countdown_smollm2_cpu"), {"grpo.max_steps": 2}).grpo["max_steps"]
    2
    """
    data = recipe.model_dump(mode="python", exclude_unset=True)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(located(source, None, dotted, f"{part!r} is not a section"))
        target[parts[-1]] = number_from_yaml(value)
    try:
        return type(recipe).model_validate(data)
    except ValidationError as exc:
        raise config_error(source, exc, {}) from None
