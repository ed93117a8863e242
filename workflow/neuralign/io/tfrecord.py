"""TFRecord files of ``tf.train.Example`` records, read and written without TensorFlow.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little-endian) | uint32 masked CRC32C of the 8 length bytes
    data (length bytes)           | uint32 masked CRC32C of the data

with the mask ``((crc >> 15) | (crc << 17)) + 0xA282EAD8`` (mod 2³²). A ``tf.train.Example``
is a protobuf message: ``Example{1: Features}``, ``Features{1: map<string, Feature>}`` (each
map entry a message ``{1: key, 2: value}``), ``Feature`` one of ``1: BytesList``,
``2: FloatList``, ``3: Int64List``, each list ``{1: repeated value}`` (floats and int64s
packed or not). Decoded features are ``bytes`` lists, float32 arrays or int64 arrays.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

CRC32C_POLYNOMIAL = 0x82F63B78  # Castagnoli, bit-reversed
MASK_DELTA = 0xA282EAD8
HEADER = 12  # length and its CRC


class TFRecordError(ValueError):
    """A corrupt or truncated TFRecord file, or a record that is not a tf.train.Example."""


# --- CRC32C -----------------------------------------------------------------------------------


def _crc_table() -> np.ndarray:
    values = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        values = np.where(values & 1, (values >> 1) ^ np.uint32(CRC32C_POLYNOMIAL), values >> 1)
    return values.astype(np.uint32)


CRC_TABLE = _crc_table()
_TABLE_LIST = CRC_TABLE.tolist()


def _register_loop(register: int, data: bytes) -> int:
    """The raw CRC register after ``data`` (byte by byte; for short inputs)."""
    table = _TABLE_LIST
    for byte in data:
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


def _lanes(registers: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Advance one raw register per lane (row of ``columns``) over its bytes."""
    for column in columns.T:
        registers = CRC_TABLE[(registers ^ column) & 0xFF] ^ (registers >> 8)
    return registers


@lru_cache(maxsize=32)
def _zeros_operator(count: int) -> np.ndarray:
    """Tables (4, 256): the register after ``count`` zero bytes from byte b at position j."""
    positions = 8 * np.arange(4, dtype=np.uint32)
    starts = np.arange(256, dtype=np.uint32)[None, :] << positions[:, None]
    return _lanes(starts.reshape(-1), np.zeros((1024, count), np.uint32)).reshape(4, 256)


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data``, e.g. ``crc32c(b"123456789") == 0xE3069283``.

    Long inputs are cut into equal lanes that run side by side in numpy; the lane registers
    are then chained with the (linear) operator of appending a lane's worth of zero bytes.
    """
    data = bytes(data)
    if len(data) < 256:
        return _register_loop(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    # The initial register 0xFFFFFFFF equals XOR-ing 0xFF into the first 4 bytes from 0.
    array = np.frombuffer(data, np.uint8).astype(np.uint32)
    array[:4] ^= 0xFF
    lane = 1 << max(6, (len(data).bit_length() + 1) // 2)
    lanes = -(-len(data) // lane)
    # Leading zero bytes leave a zero register unchanged, so pad at the front.
    padded = np.zeros(lanes * lane, np.uint32)
    padded[-len(data) :] = array
    registers = _lanes(np.zeros(lanes, np.uint32), padded.reshape(lanes, lane)).tolist()
    shift = _zeros_operator(lane).tolist()
    s0, s1, s2, s3 = shift
    register = 0
    for value in registers:
        register = (
            s0[register & 0xFF]
            ^ s1[(register >> 8) & 0xFF]
            ^ s2[(register >> 16) & 0xFF]
            ^ s3[register >> 24]
            ^ value
        )
    return register ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC as stored in TFRecord files (rotated right by 15 bits plus a constant)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


# --- record framing ---------------------------------------------------------------------------


def _check(stored: bytes, data: bytes, path, index: int, what: str) -> None:
    (expected,) = struct.unpack("<I", stored)
    if masked_crc32c(data) != expected:
        raise TFRecordError(
            f"{path}: record {index}: CRC32C mismatch of its {what}; the file is corrupt "
            "(download it again)"
        )


def _read_exact(handle, size: int, path, index: int, what: str) -> bytes:
    chunk = handle.read(size)
    if len(chunk) != size:
        raise TFRecordError(
            f"{path}: record {index} is truncated ({what}: {len(chunk)} of {size} bytes); "
            "the file is incomplete (download it again)"
        )
    return chunk


def read_record(handle, path, index: int, *, verify: bool = True) -> bytes | None:
    """The next record's data from an open file, or None at the end of the file."""
    header = handle.read(HEADER)
    if not header:
        return None
    if len(header) != HEADER:
        raise TFRecordError(
            f"{path}: record {index} is truncated (header: {len(header)} of {HEADER} bytes); "
            "the file is incomplete (download it again)"
        )
    if verify:
        _check(header[8:], header[:8], path, index, "length")
    (length,) = struct.unpack("<Q", header[:8])
    data = _read_exact(handle, length, path, index, "data")
    stored = _read_exact(handle, 4, path, index, "data CRC")
    if verify:
        _check(stored, data, path, index, "data")
    return data


def read_records(path: str | os.PathLike, *, verify: bool = True) -> Iterator[bytes]:
    """Every record's data in a TFRecord file, checking both CRCs unless ``verify`` is False."""
    with open(path, "rb") as handle:
        index = 0
        while (data := read_record(handle, path, index, verify=verify)) is not None:
            yield data
            index += 1


def record_offsets(path: str | os.PathLike, *, verify: bool = True) -> list[tuple[int, int]]:
    """(offset of the header, data length) of every record, reading only the headers."""
    offsets = []
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        offset = 0
        while offset < size:
            header = handle.read(HEADER)
            if len(header) != HEADER:
                raise TFRecordError(
                    f"{path}: record {len(offsets)} is truncated (header: {len(header)} of "
                    f"{HEADER} bytes); the file is incomplete (download it again)"
                )
            if verify:
                _check(header[8:], header[:8], path, len(offsets), "length")
            (length,) = struct.unpack("<Q", header[:8])
            if offset + HEADER + length + 4 > size:
                raise TFRecordError(
                    f"{path}: record {len(offsets)} is truncated (needs {length} data bytes "
                    f"past byte {offset + HEADER} of {size}); the file is incomplete "
                    "(download it again)"
                )
            offsets.append((offset, length))
            offset += HEADER + length + 4
            handle.seek(offset)
    return offsets


def read_record_at(path: str | os.PathLike, offset: int, index: int, *, verify: bool = True):
    """The data of the record whose header starts at byte ``offset``."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = read_record(handle, path, index, verify=verify)
    if data is None:
        raise TFRecordError(f"{path}: no record {index} at byte {offset}")
    return data


def frame_record(data: bytes) -> bytes:
    """One record in the TFRecord framing."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def write_records(path: str | os.PathLike, records: Iterable[bytes]) -> None:
    """Write a TFRecord file of raw records."""
    with open(path, "wb") as handle:
        for data in records:
            handle.write(frame_record(data))


# --- protobuf: tf.train.Example ---------------------------------------------------------------

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buffer):
            raise TFRecordError("protobuf varint runs past the end of the message")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift >= 70:
            raise TFRecordError("protobuf varint longer than 10 bytes")


def _fields(buffer: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a message: ints for varints/fixed, bytes else."""
    position = 0
    while position < len(buffer):
        key, position = _varint(buffer, position)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, position = _varint(buffer, position)
        elif wire == LENGTH:
            size, position = _varint(buffer, position)
            if position + size > len(buffer):
                raise TFRecordError(f"protobuf field {number} runs past the end of the message")
            value, position = buffer[position : position + size], position + size
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if position + width > len(buffer):
                raise TFRecordError(f"protobuf field {number} runs past the end of the message")
            value, position = buffer[position : position + width], position + width
        else:
            raise TFRecordError(f"unsupported protobuf wire type {wire} (field {number})")
        yield number, wire, value


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _parse_feature(buffer: bytes, key: str):
    kind = None
    for number, wire, value in _fields(buffer):
        kind = number
        items = list(_fields(value)) if wire == LENGTH else []
        if number == 1:
            values = [v for n, w, v in items if n == 1 and w == LENGTH]
            return [bytes(v) for v in values]
        if number == 2:
            floats: list[float] = []
            for n, w, v in items:
                if n != 1:
                    continue
                if w == LENGTH:  # packed
                    floats.extend(np.frombuffer(v, "<f4").tolist())
                elif w == FIXED32:
                    floats.extend(struct.unpack("<f", v))
            return np.asarray(floats, np.float32)
        if number == 3:
            ints: list[int] = []
            for n, w, v in items:
                if n != 1:
                    continue
                if w == LENGTH:  # packed
                    position = 0
                    while position < len(v):
                        raw, position = _varint(v, position)
                        ints.append(_signed64(raw))
                elif w == VARINT:
                    ints.append(_signed64(v))
            return np.asarray(ints, np.int64)
    raise TFRecordError(f"feature {key!r} has no bytes, float or int64 list (field {kind})")


def parse_example(buffer: bytes) -> dict[str, list[bytes] | np.ndarray]:
    """Decode a serialised ``tf.train.Example`` into {name: bytes list | float32 | int64}."""
    features: dict = {}
    for number, wire, value in _fields(buffer):
        if number != 1 or wire != LENGTH:
            continue
        for entry_number, entry_wire, entry in _fields(value):
            if entry_number != 1 or entry_wire != LENGTH:
                continue
            key, feature = None, b""
            for n, w, v in _fields(entry):
                if n == 1 and w == LENGTH:
                    key = bytes(v).decode()
                elif n == 2 and w == LENGTH:
                    feature = v
            if key is None:
                raise TFRecordError("a tf.train.Features map entry has no key")
            features[key] = _parse_feature(feature, key)
    return features


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | LENGTH) + _encode_varint(len(payload)) + payload


def _encode_feature(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        value = [value]
    if isinstance(value, (int, np.integer)):
        value = np.asarray([value], np.int64)
    if isinstance(value, float):
        value = np.asarray([value], np.float32)
    if isinstance(value, list) and all(isinstance(v, (bytes, bytearray)) for v in value):
        return _length_field(1, b"".join(_length_field(1, bytes(v)) for v in value))
    array = np.asarray(value)
    if array.dtype.kind == "f":
        packed = array.astype("<f4").tobytes()
        return _length_field(2, _length_field(1, packed) if array.size else b"")
    if array.dtype.kind in "iub":
        packed = b"".join(_encode_varint(int(v)) for v in array.reshape(-1))
        return _length_field(3, _length_field(1, packed) if array.size else b"")
    raise TypeError(f"cannot encode a feature of type {type(value).__name__}")


def serialize_example(features: Mapping[str, object]) -> bytes:
    """Encode {name: bytes | list of bytes | int(s) | float(s)} as a ``tf.train.Example``."""
    entries = b"".join(
        _length_field(1, _length_field(1, key.encode()) + _length_field(2, _encode_feature(v)))
        for key, v in features.items()
    )
    return _length_field(1, entries)


def read_examples(path: str | os.PathLike, *, verify: bool = True) -> Iterator[dict]:
    """Every ``tf.train.Example`` of a TFRecord file, decoded by ``parse_example``."""
    for index, data in enumerate(read_records(path, verify=verify)):
        try:
            yield parse_example(data)
        except TFRecordError as err:
            raise TFRecordError(f"{path}: record {index}: {err}") from err


def write_examples(path: str | os.PathLike, examples: Iterable[Mapping[str, object]]) -> None:
    """Write a TFRecord file of ``tf.train.Example`` records (see ``serialize_example``)."""
    write_records(path, (serialize_example(example) for example in examples))
