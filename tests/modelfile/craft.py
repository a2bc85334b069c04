"""Crafting hostile model files as an attacker would: members edited, then the manifest's
checksums and the archive's seal recomputed, so that only the parser stands in the way."""

import bz2
import hashlib
import io
import json
import struct
import zipfile
import zlib

from tsrnn.persistence import _seal as seal
from tsrnn.persistence import _sha256 as sha256

STORED, DEFLATED, BZIP2 = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2


def members_of(model_bytes):
    """The members of a model file, name -> bytes (manifest included)."""
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


class Raw:
    """A member given as already-compressed bytes with the sizes and CRC to declare."""

    def __init__(self, compressed, method, file_size, crc, digest):
        self.compressed, self.method = compressed, method
        self.file_size, self.crc, self.digest = file_size, crc, digest


def _deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zip_bytes(entries):
    """A zip archive (no comment) of ``entries``: (name, Raw) pairs, written by hand so
    that sizes, CRCs and methods can lie."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, raw in entries:
        offset = out.tell()
        encoded = name.encode()
        fields = (20, 0, raw.method, 0, 0x21, raw.crc, len(raw.compressed), raw.file_size)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, len(encoded), 0))
        out.write(encoded + raw.compressed)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, len(encoded), 0, 0, 0, 0, 0, offset
            )
        )
        central.write(encoded)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), start, 0)
    )
    return out.getvalue()


def member(data, method=None, name=""):
    """``data`` as a :class:`Raw` member, compressed as tsrnn writes it (or by ``method``)."""
    if method is None:
        method = STORED if name.endswith(".npy") else DEFLATED
    compressed = {STORED: lambda d: d, DEFLATED: _deflate, BZIP2: bz2.compress}[method](data)
    return Raw(compressed, method, len(data), zlib.crc32(data), sha256(data))


def reseal(members, manifest=None, raw=None, checksums=True):
    """A sealed model file from ``members`` (name -> bytes; ``manifest.json`` a dict or
    bytes), with ``raw`` (name -> Raw) members added as given. Checksums are recomputed
    unless ``checksums`` is False."""
    members = dict(members)
    manifest = members.pop("manifest.json") if manifest is None else manifest
    built = {name: member(data, name=name) for name, data in members.items()}
    built.update(raw or {})
    if isinstance(manifest, bytes) and checksums:
        try:
            manifest = json.loads(manifest)
        except (ValueError, RecursionError):
            pass  # a manifest already broken (or nested) by an edit goes in as it is
    if checksums and isinstance(manifest, dict):
        manifest = dict(manifest, checksums={k: v.digest for k, v in built.items()})
    text = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    entries = [("manifest.json", member(text))] + list(built.items())
    return seal(zip_bytes(entries))


def zeros_bzip2(n_blocks):
    """A bzip2 stream that inflates to ``n_blocks`` x 45,899,235 zero bytes, built in
    well under a second by repeating one compressed block (bzip2 blocks are bit-aligned
    and carry their own CRC; the stream CRC combines them)."""
    raw = bz2.compress(bytes(100_000_000), 9)
    bits = bin(int.from_bytes(raw, "big"))[2:].zfill(len(raw) * 8)
    magic = format(0x314159265359, "048b")
    first = bits.find(magic)
    block = bits[first : bits.find(magic, first + 1)]
    crc = int(block[48:80], 2)
    combined = 0
    for _ in range(n_blocks):
        combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ crc
    out = bits[:first] + block * n_blocks + format(0x177245385090, "048b")
    out += format(combined, "032b")
    out += "0" * (-len(out) % 8)
    return int(out, 2).to_bytes(len(out) // 8, "big")


BZIP2_BLOCK = 45_899_235


def zeros_crc(n_bytes, chunk=1 << 24):
    """CRC-32 of ``n_bytes`` zero bytes."""
    crc, zeros = 0, bytes(chunk)
    while n_bytes:
        k = min(chunk, n_bytes)
        crc = zlib.crc32(zeros[:k], crc)
        n_bytes -= k
    return crc


def bomb(n_blocks):
    """A bzip2 member declaring honestly that it inflates to n_blocks x 45.9 MB of zeros.
    Its checksum is that of an empty member: a loader must refuse it before reading it."""
    size = n_blocks * BZIP2_BLOCK
    return Raw(zeros_bzip2(n_blocks), BZIP2, size, zeros_crc(size), hashlib.sha256().hexdigest())
