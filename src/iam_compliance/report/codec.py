"""The report model to JSON and back.

:func:`to_json` writes any model value as JSON (compliance.json, and the payloads xdist
carries to the controller); :func:`from_json` rebuilds the typed value from it, reading
the dataclasses' own type hints, so the model is declared once.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, Field, fields, is_dataclass
from typing import TypeVar, Union

from .model import JSON


def to_json(value: object) -> JSON:
    """The JSON form of a model value: dataclasses as objects in field order, enums as
    their values, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"{type(value).__name__} is not part of the report model")


Model = TypeVar("Model")


def from_json(cls: type[Model], data: object) -> Model:
    """Rebuild a model value of type ``cls`` from :func:`to_json`'s output.

    Raises ValueError, naming the field, for data of the wrong shape.
    """
    return typing.cast(Model, _decode(cls, data, cls.__name__))


def _decode(kind: object, data: object, where: str) -> object:
    if _is_json(kind):
        if typing.get_origin(kind) is dict and not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        return data
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        [inner] = [arg for arg in args if arg is not type(None)]
        return _decode(inner, data, where)
    if origin is tuple:
        return tuple(_decode(args[0], item, f"{where}[]") for item in _list(data, where))
    if origin in (Mapping, dict):
        return {
            _decode(args[0], key, where): _decode(args[1], item, f"{where}.{key}")
            for key, item in _object(data, where).items()
        }
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            known = ", ".join(repr(member.value) for member in kind)
            raise ValueError(f"{where}: expected one of {known}, got {data!r}") from None
    if isinstance(kind, type) and is_dataclass(kind):
        hints = _hints(kind)
        found = _object(data, where)
        return kind(
            **{
                f.name: _decode(hints[f.name], found.get(f.name), f"{where}.{f.name}")
                for f in fields(kind)
                # A field added within the schema has a default: a document written before
                # it was added (a shard of an older run, say) leaves it out.
                if f.init and (f.name in found or not _has_default(f))
            }
        )
    if isinstance(kind, type) and kind in (str, int, bool, float) and isinstance(data, kind):
        if kind is not bool and isinstance(data, bool):  # a bool is an int to isinstance
            raise ValueError(f"{where}: expected {kind}, got bool")
        return data
    raise ValueError(f"{where}: expected {kind}, got {type(data).__name__}")


def _has_default(field: Field[object]) -> bool:
    return field.default is not MISSING or field.default_factory is not MISSING


@functools.cache
def _hints(kind: type) -> dict[str, object]:
    """A model class's field types: evaluating them compiles each annotation anew, which
    cost most of the decoding of a thousand targets' rows."""
    return typing.get_type_hints(kind)


def _is_json(kind: object) -> bool:
    """Whether ``kind`` is :data:`JSON` or :data:`JSONObject`, kept as they are.

    The model's only unions of several types are JSON's own.
    """
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Union, types.UnionType):
        return len([arg for arg in args if arg is not type(None)]) > 1
    return origin is dict and _is_json(args[1])


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
    return data


def _object(data: object, where: str) -> dict[str, object]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    return data
