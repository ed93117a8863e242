"""Tests of the TensorFlow-free TFRecord / tf.train.Example reader and writer."""

import os
import struct

import numpy as np
import pytest

from neuralign.io import tfrecord as tr


def bitwise_crc32c(data: bytes) -> int:
    """CRC-32C one bit at a time (no table): an independent reference."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8 & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """TFRecord framing written out by hand with the bitwise CRC."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked(bitwise_crc32c(length)))
        + data
        + struct.pack("<I", masked(bitwise_crc32c(data)))
    )


# tf.train.Example {features {feature {key: "label" value {int64_list {value: 7}}}
#                             feature {key: "neg" value {int64_list {value: -1}}}   (unpacked)
#                             feature {key: "img" value {bytes_list {value: "abc" value: ""}}}
#                             feature {key: "w" value {float_list {value: [1.5, -2]}}}}}
LABEL = b"\x0a\x05label" + b"\x12\x05" + b"\x1a\x03" + b"\x0a\x01\x07"
NEG = b"\x0a\x03neg" + b"\x12\x0d" + b"\x1a\x0b" + b"\x08" + b"\xff" * 9 + b"\x01"
IMG = b"\x0a\x03img" + b"\x12\x09" + b"\x0a\x07" + b"\x0a\x03abc" + b"\x0a\x00"
W = b"\x0a\x01w" + b"\x12\x0c" + b"\x12\x0a" + b"\x0a\x08" + struct.pack("<ff", 1.5, -2.0)
FEATURES = b"".join(bytes([0x0A, len(entry)]) + entry for entry in (LABEL, NEG, IMG, W))
EXAMPLE = bytes([0x0A, len(FEATURES)]) + FEATURES


def test_crc32c_check_value_and_long_inputs():
    assert tr.crc32c(b"123456789") == 0xE3069283
    assert tr.crc32c(b"") == 0
    # RFC 3720 B.4 test vectors: 32 bytes of zeros and of 0xFF
    assert tr.crc32c(bytes(32)) == 0x8A9136AA
    assert tr.crc32c(b"\xff" * 32) == 0x62A8AB43
    rng = np.random.default_rng(0)
    for size in (4, 255, 256, 257, 1000, 4099, 70_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert tr.crc32c(data) == bitwise_crc32c(data), size


def test_reads_hand_encoded_example_in_hand_framed_file(tmp_path):
    path = tmp_path / "x.tfrecords"
    path.write_bytes(frame(EXAMPLE) + frame(EXAMPLE[:0]))
    first, empty = tr.read_examples(path)
    assert empty == {}
    assert set(first) == {"label", "neg", "img", "w"}
    assert first["label"].tolist() == [7] and first["label"].dtype == np.int64
    assert first["neg"].tolist() == [-1]
    assert first["img"] == [b"abc", b""]
    assert first["w"].tolist() == [1.5, -2.0] and first["w"].dtype == np.float32
    assert [length for _, length in tr.record_offsets(path)] == [len(EXAMPLE), 0]


def test_writer_round_trip_and_matches_hand_framing(tmp_path):
    example = {"image": b"\x00\xffjpeg", "label": 999, "values": np.array([0.25, -3.0])}
    example["many"] = np.array([0, 1, -(2**63), 2**63 - 1])
    path = tmp_path / "w.tfrecords"
    tr.write_examples(path, [example, {"label": 0}])
    records = list(tr.read_records(path))
    assert path.read_bytes() == b"".join(frame(record) for record in records)
    first, second = tr.read_examples(path)
    assert first["image"] == [b"\x00\xffjpeg"]
    assert first["label"].tolist() == [999]
    assert first["values"].tolist() == [0.25, -3.0]
    assert first["many"].tolist() == example["many"].tolist()
    assert second["label"].tolist() == [0]
    # An int64 list the writer encodes is the same bytes as the hand-encoded one.
    header = bytes([0x0A, len(LABEL) + 2, 0x0A, len(LABEL)])
    assert tr.serialize_example({"label": 7}) == header + LABEL


def test_corruption_and_truncation_name_file_and_record(tmp_path):
    path = tmp_path / "bad.tfrecords"
    good = frame(EXAMPLE)
    data = bytearray(good * 3)
    data[len(good) + 12 + 5] ^= 0x01  # a data byte of record 1
    path.write_bytes(bytes(data))
    with pytest.raises(tr.TFRecordError, match=r"bad\.tfrecords: record 1: CRC32C mismatch"):
        list(tr.read_records(path))
    assert len(list(tr.read_records(path, verify=False))) == 3

    data = bytearray(good * 2)
    data[len(good) + 2] ^= 0x01  # the length of record 1
    path.write_bytes(bytes(data))
    with pytest.raises(tr.TFRecordError, match=r"record 1: CRC32C mismatch of its length"):
        tr.record_offsets(path)

    for cut in (len(good) + 5, 2 * len(good) - 2):
        path.write_bytes((good * 2)[:cut])
        with pytest.raises(tr.TFRecordError, match=r"bad\.tfrecords: record 1 is truncated"):
            list(tr.read_records(path))
        with pytest.raises(tr.TFRecordError, match=r"record 1 is truncated"):
            tr.record_offsets(path)


def test_not_an_example_is_reported(tmp_path):
    path = tmp_path / "junk.tfrecords"
    path.write_bytes(frame(b"\x0a\x50abc"))  # a length field longer than the message
    with pytest.raises(tr.TFRecordError, match=r"junk\.tfrecords: record 0: .*past the end"):
        list(tr.read_examples(path))


def test_random_bytes_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    payloads = [os.urandom(int(n)) for n in rng.integers(0, 5000, 20)]
    path = tmp_path / "r.tfrecords"
    tr.write_records(path, payloads)
    assert list(tr.read_records(path)) == payloads
    for (offset, _), (index, payload) in zip(
        tr.record_offsets(path), enumerate(payloads), strict=True
    ):
        assert tr.read_record_at(path, offset, index) == payload
