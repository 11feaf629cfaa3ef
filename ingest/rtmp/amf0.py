"""AMF0 values (rtmp.md §4): decoding what publishers send, encoding what we answer.

Python mapping: Number ↔ ``float`` (``int`` encodes as Number too), Boolean ↔ ``bool``,
String/Long String ↔ ``str``, Object ↔ ``dict[str, object]``, ECMA array ↔ ``EcmaArray``,
Strict array ↔ ``list``, Null ↔ ``None``, Undefined ↔ ``UNDEFINED``, Date ↔ ``AmfDate``,
Typed object ↔ ``TypedObject``, XML document ↔ ``XmlDocument``. A Reference decodes to the
object it points at. With ``amf3=True`` (message types 15/17) the AVM+ marker 0x11 switches
one value to AMF3, decoded into the same Python types.

Decoding is hardened against hostile input: nesting depth and the number of values are
capped (references count the size of what they point at, so shared sub-trees cannot blow up
a consumer that walks the result), cycles are refused, and every malformed input raises
``RtmpError`` (code ``amf``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final, TypeVar

from ingest.rtmp.errors import RtmpError

MAX_DEPTH: Final = 32
MAX_VALUES: Final = 65_536

_DOUBLE = struct.Struct(">d")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_DATE = struct.Struct(">dh")

NUMBER, BOOLEAN, STRING, OBJECT, MOVIECLIP, NULL, UNDEFINED_MARKER, REFERENCE = range(8)
ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = 8, 9, 10, 11, 12
UNSUPPORTED, RECORDSET, XML_DOCUMENT, TYPED_OBJECT, AVMPLUS = 13, 14, 15, 16, 17


class Undefined:
    """AMF ``undefined`` (distinct from ``null``, which is ``None``)."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = Undefined()


class EcmaArray(dict[str, object]):
    """An AMF0 ECMA (associative) array; a ``dict`` that re-encodes as marker 0x08."""


class XmlDocument(str):
    """An AMF0 XML document (marker 0x0F); a ``str`` that re-encodes as such."""


@dataclass(frozen=True, slots=True)
class AmfDate:
    milliseconds: float
    """Since the Unix epoch, UTC."""
    timezone: int = 0
    """Reserved by the spec; senders write 0."""


@dataclass(slots=True)
class TypedObject:
    class_name: str
    properties: dict[str, object] = field(default_factory=dict)


Buffer = bytes | bytearray | memoryview
_T = TypeVar("_T")


def decode(
    data: Buffer, *, amf3: bool = False, max_depth: int = MAX_DEPTH,
    max_values: int = MAX_VALUES,
) -> list[object]:
    """All values of a command or data message body, in order."""
    return _Decoder(data, amf3, max_depth, max_values).all()


def encode(*values: object) -> bytes:
    """The AMF0 encoding of ``values`` one after the other (a command or data body)."""
    out: list[bytes] = []
    for value in values:
        _encode(value, out)
    return b"".join(out)


def _fail(message: str) -> RtmpError:
    return RtmpError(message, "amf")


class _Decoder:
    __slots__ = ("_data", "_depth", "_end", "_max_depth", "_max_values", "_open", "_pos",
                 "_refs", "_sizes", "_values", "amf3")

    def __init__(self, data: Buffer, amf3: bool, max_depth: int, max_values: int) -> None:
        self._data = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        self._pos = 0
        self._end = len(self._data)
        self.amf3 = amf3
        self._max_depth = max_depth
        self._max_values = max_values
        self._values = 0
        self._depth = 0
        # AMF0 reference table: complex values in the order they began, with the number of
        # values each one expands to (None while still being decoded: a cycle).
        self._refs: list[object] = []
        self._sizes: list[int | None] = []
        self._open = 0

    def all(self) -> list[object]:
        values: list[object] = []
        while self._pos < self._end:
            values.append(self.value())
        return values

    # -- primitives -------------------------------------------------------------------------

    def take(self, n: int) -> int:
        """Reserve ``n`` bytes; return where they start."""
        pos = self._pos
        if n > self._end - pos:
            raise _fail("AMF value truncated")
        self._pos = pos + n
        return pos

    def u8(self) -> int:
        return self._data[self.take(1)]

    def u16(self) -> int:
        value: int = _U16.unpack_from(self._data, self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack_from(self._data, self.take(4))[0]
        return value

    def double(self) -> float:
        value: float = _DOUBLE.unpack_from(self._data, self.take(8))[0]
        return value

    def text(self, n: int) -> str:
        start = self.take(n)
        # Lenient: some encoders put Latin-1 in metadata strings; never fail a publish on it.
        return bytes(self._data[start:start + n]).decode("utf-8", "replace")

    def count(self) -> None:
        self._values += 1
        if self._values > self._max_values:
            raise RtmpError("too many AMF values", "limit")

    def enter(self) -> None:
        self._depth += 1
        if self._depth > self._max_depth:
            raise RtmpError("AMF values nested too deeply", "limit")

    # -- AMF0 -------------------------------------------------------------------------------

    def value(self) -> object:
        self.count()
        marker = self.u8()
        if marker == NUMBER:
            return self.double()
        if marker == STRING:
            return self.text(self.u16())
        if marker == BOOLEAN:
            return self.u8() != 0
        if marker == NULL:
            return None
        if marker == UNDEFINED_MARKER:
            return UNDEFINED
        if marker == OBJECT:
            return self.complex(dict(), None)
        if marker == ECMA_ARRAY:
            self.u32()  # associative count: a hint only
            return self.complex(EcmaArray(), None)
        if marker == STRICT_ARRAY:
            return self.complex([], self.u32())
        if marker == TYPED_OBJECT:
            return self.complex(TypedObject(self.text(self.u16())), None)
        if marker == LONG_STRING:
            return self.text(self.u32())
        if marker == XML_DOCUMENT:
            return XmlDocument(self.text(self.u32()))
        if marker == DATE:
            ms, tz = _DATE.unpack_from(self._data, self.take(10))
            return AmfDate(ms, tz)
        if marker == REFERENCE:
            return self.reference(self.u16())
        if marker == AVMPLUS and self.amf3:
            return _Amf3(self).value()
        raise _fail(f"unsupported AMF0 marker {marker:#04x}")

    def complex(self, target: dict[str, object] | list[object] | TypedObject,
                length: int | None) -> object:
        self.enter()
        slot = len(self._refs)
        self._refs.append(target)
        self._sizes.append(None)
        before = self._values
        if isinstance(target, list):
            assert length is not None
            for _ in range(length):  # each element counts, so `length` cannot run away
                target.append(self.value())
        else:
            props = target.properties if isinstance(target, TypedObject) else target
            self.properties(props)
        self._sizes[slot] = self._values - before
        self._depth -= 1
        return target

    def properties(self, props: dict[str, object]) -> None:
        data = self._data
        while True:
            if self._pos == self._end:
                return  # lenient: some encoders drop the end marker of the last object
            key_len = self.u16()
            if key_len == 0 and self._pos < self._end and data[self._pos] == OBJECT_END:
                self._pos += 1
                return
            key = self.text(key_len)
            props[key] = self.value()

    def reference(self, index: int) -> object:
        if index >= len(self._refs):
            raise _fail(f"AMF0 reference {index} to an unknown object")
        size = self._sizes[index]
        if size is None:
            raise _fail("cyclic AMF0 reference")
        self._values += size
        if self._values > self._max_values:
            raise RtmpError("too many AMF values", "limit")
        return self._refs[index]


class _Amf3:
    """One AMF3 value (after an AVM+ marker); its reference tables live only this long."""

    __slots__ = ("_d", "_objects", "_strings", "_traits")

    def __init__(self, decoder: _Decoder) -> None:
        self._d = decoder
        self._strings: list[str] = []
        self._objects: list[object] = []
        self._traits: list[tuple[str, list[str], bool]] = []

    def u29(self) -> int:
        d = self._d
        result = 0
        for _ in range(3):
            byte = d.u8()
            result = (result << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return result
        return (result << 8) | d.u8()

    def string(self) -> str:
        header = self.u29()
        if not header & 1:
            return self._lookup(self._strings, header >> 1)
        text = self._d.text(header >> 1)
        if text:
            self._strings.append(text)
        return text

    @staticmethod
    def _lookup(table: list[_T], index: int) -> _T:
        if index >= len(table):
            raise _fail(f"AMF3 reference {index} to an unknown entry")
        return table[index]

    def value(self) -> object:
        d = self._d
        marker = d.u8()
        if marker == 0x00:
            return UNDEFINED
        if marker == 0x01:
            return None
        if marker in (0x02, 0x03):
            return marker == 0x03
        if marker == 0x04:
            n = self.u29()
            return float(n - (1 << 29) if n & (1 << 28) else n)
        if marker == 0x05:
            return d.double()
        if marker == 0x06:
            return self.string()
        if marker in (0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C):
            header = self.u29()
            if not header & 1:
                obj = self._lookup(self._objects, header >> 1)
                if obj is None:
                    raise _fail("cyclic AMF3 reference")
                return obj
            return self.inline(marker, header >> 1)
        raise _fail(f"unsupported AMF3 marker {marker:#04x}")

    def inline(self, marker: int, header: int) -> object:
        d = self._d
        if marker in (0x07, 0x0B):
            xml = XmlDocument(d.text(header))
            self._objects.append(xml)
            return xml
        if marker == 0x08:
            date = AmfDate(d.double())
            self._objects.append(date)
            return date
        if marker == 0x0C:
            start = d.take(header)
            blob = bytes(d._data[start:start + header])
            self._objects.append(blob)
            return blob
        slot = len(self._objects)
        self._objects.append(None)  # a reference to it before it is complete is a cycle
        d.enter()
        result: object
        if marker == 0x09:
            assoc = EcmaArray()
            while key := self.string():
                d.count()
                assoc[key] = self.value()
            dense: list[object] = []
            for _ in range(header):  # each element counts, so `header` cannot run away
                d.count()
                dense.append(self.value())
            if assoc:
                assoc.update((str(i), v) for i, v in enumerate(dense))
                result = assoc
            else:
                result = dense
        else:
            result = self.object(header)
        d._depth -= 1
        self._objects[slot] = result
        return result

    def object(self, header: int) -> object:
        d = self._d
        if not header & 1:
            class_name, sealed, dynamic = self._lookup(self._traits, header >> 1)
        else:
            if header & 2:
                raise _fail("externalizable AMF3 objects are not supported")
            dynamic = bool(header & 4)
            count = header >> 3
            class_name = self.string()
            sealed = []
            for _ in range(count):
                d.count()
                sealed.append(self.string())
            self._traits.append((class_name, sealed, dynamic))
        props: dict[str, object] = {}
        for name in sealed:
            d.count()
            props[name] = self.value()
        if dynamic:
            while key := self.string():
                d.count()
                props[key] = self.value()
        return TypedObject(class_name, props) if class_name else props


def _encode(value: object, out: list[bytes]) -> None:
    # bool before int: bool is an int subclass.
    if value is None:
        out.append(b"\x05")
    elif isinstance(value, bool):
        out.append(b"\x01\x01" if value else b"\x01\x00")
    elif isinstance(value, int | float):
        out.append(b"\x00" + _DOUBLE.pack(float(value)))
    elif isinstance(value, XmlDocument):
        raw = value.encode()
        out.append(b"\x0f" + _U32.pack(len(raw)) + raw)
    elif isinstance(value, str):
        raw = value.encode()
        if len(raw) <= 0xFFFF:
            out.append(b"\x02" + _U16.pack(len(raw)) + raw)
        else:
            out.append(b"\x0c" + _U32.pack(len(raw)) + raw)
    elif isinstance(value, EcmaArray):
        out.append(b"\x08" + _U32.pack(len(value)))
        _encode_properties(value, out)
    elif isinstance(value, dict):
        out.append(b"\x03")
        _encode_properties(value, out)
    elif isinstance(value, list | tuple):
        out.append(b"\x0a" + _U32.pack(len(value)))
        for item in value:
            _encode(item, out)
    elif value is UNDEFINED:
        out.append(b"\x06")
    elif isinstance(value, AmfDate):
        out.append(b"\x0b" + _DATE.pack(value.milliseconds, value.timezone))
    elif isinstance(value, TypedObject):
        name = value.class_name.encode()
        out.append(b"\x10" + _U16.pack(len(name)) + name)
        _encode_properties(value.properties, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def _encode_properties(props: dict[str, object], out: list[bytes]) -> None:
    for key, item in props.items():
        raw = key.encode()
        if len(raw) > 0xFFFF:
            raise ValueError("AMF0 property names are limited to 65535 bytes")
        out.append(_U16.pack(len(raw)) + raw)
        _encode(item, out)
    out.append(b"\x00\x00\x09")
