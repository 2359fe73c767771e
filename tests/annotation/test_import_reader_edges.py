"""Edges of the JSON readers (annotation/pipeline/readers.py): byte order marks, numbers
no float holds, records cut anywhere by read chunks, and a syntax error early in a huge
file, which must not make the reader take in the rest of the file."""

import codecs
import io
import json

import pytest

from annotation.pipeline.readers import (
    CHUNK_BYTES,
    ReadError,
    read_json_array,
    read_json_lines,
    utf8_chunks,
)

from .import_helpers import CountingStream


def pieces(text: str, size: int | None = None):
    """The text as an iterator of chunks of ``size`` characters (one chunk if None)."""
    if size is None:
        yield text
        return
    for i in range(0, len(text), size):
        yield text[i : i + size]


def read(reader, text: str, size: int | None = None) -> list:
    return list(reader(pieces(text, size)))


def decode(data: bytes, chunk_bytes: int = CHUNK_BYTES) -> str:
    return "".join(utf8_chunks(io.BytesIO(data), chunk_bytes=chunk_bytes))


# --- byte order marks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bom", "codec", "named"),
    [
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ],
)
@pytest.mark.parametrize("chunk_bytes", [1, 3, CHUNK_BYTES])
def test_byte_order_mark_names_the_encoding(bom, codec, named, chunk_bytes):
    data = bom + '[{"patient_id": 1, "report": "x"}]'.encode(codec)
    with pytest.raises(ReadError) as info:
        decode(data, chunk_bytes)
    assert info.value.message == (
        f"not valid UTF-8 at byte 0: the file starts with a {named} byte order mark; save the file as UTF-8"
    )


# --- a syntax error early in a huge file ----------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        b'{"patient_id": 3, "report": "x" "y"},\n',  # a missing comma
        b'{"patient_id": 3, "report": tru},\n',
        b'{"patient_id": 3, "report": "a\tb"},\n',  # a raw control character in a string
        b'{"patient_id": 3, "report": "x",},\n',
    ],
)
def test_json_array_syntax_error_is_reported_without_reading_the_rest(bad):
    # A bad record early in a huge file is refused at once: reading on to the end of the
    # file (to see whether more text mends it) would take the whole file into memory.
    good = b'{"patient_id": 1, "report": "fever"},\n'
    stream = CountingStream(b"[\n" + good * 2 + bad, good, 64 * CHUNK_BYTES, b"]")
    with pytest.raises(ReadError, match="^invalid JSON: ") as info:
        list(read_json_array(utf8_chunks(stream)))
    assert (info.value.record, info.value.line) == (3, 4)
    assert stream.bytes_read <= 2 * CHUNK_BYTES


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_json_array_records_cut_anywhere_by_chunks_are_read_whole(size):
    text = (
        '[{"patient_id": -12, "report": "a\\u00e9\\ud83e\\ude7a\\"b", "x": [true, false, null, -1.5e-3],'
        ' "y": {"z": 1E+2}}, {"patient_id": 2, "report": "b"}]'
    )
    records = read(read_json_array, text, size)
    assert [r.value for r in records] == json.loads(text)


# --- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5E+309", "-0.1e999", "9" * 400 + ".0"])
@pytest.mark.parametrize("where", ['"score": {n}', '"summary": {{"age": {n}}}', '"x": [1, {n}]'])
@pytest.mark.parametrize("size", [None, 1, 7])
def test_numbers_too_large_for_a_float_are_refused(number, where, size):
    body = '{"patient_id": 2, "report": "b", ' + where.format(n=number) + "}"
    array = '[{"patient_id": 1, "report": "a"},\n' + body + "]"
    with pytest.raises(ReadError, match=r"^invalid JSON: number out of range \(") as info:
        read(read_json_array, array, size)
    assert (info.value.record, info.value.line) == (2, 2)
    records = read(read_json_lines, '{"patient_id": 1, "report": "a"}\n' + body + "\n", size)
    assert records[0].error is None
    assert records[1].error.startswith("invalid JSON: number out of range (")
    assert (records[1].number, records[1].line) == (2, 2)


@pytest.mark.parametrize("cut", ["e", "e-", "e-4", "e-40"])
def test_number_cut_by_a_chunk_where_its_start_is_out_of_range_is_read_whole(cut):
    # "1000...0.5" alone (400 zeros) does not fit a float; with the exponent that the
    # next chunk brings it does, so a chunk ending inside the number must not refuse it.
    long = "1" + "0" * 400 + ".5e-400"
    text = f'[{{"patient_id": 1, "x": {long}, "y": 1e-400, "z": 1.7e308}}]'
    at = text.index(".5e-400") + 2
    at += len(cut) - 1  # the chunk ends before the exponent, or inside it
    records = list(read_json_array(iter([text[:at], text[at:]])))
    assert [r.error for r in records] == [None]
    assert records[0].value == {"patient_id": 1, "x": float(long), "y": 0.0, "z": 1.7e308}
