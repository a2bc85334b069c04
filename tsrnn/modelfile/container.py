"""The model-file container: a sealed zip of JSON members and ``.npy`` arrays.

A ``.tsrnn`` file is a zip archive holding

* ``manifest.json``: the format name and version, the tsrnn version, the
  estimator's class, and a SHA-256 checksum of every other member;
* ``state.json``: the estimator's attributes (see :mod:`tsrnn.modelfile.codec`);
* ``arrays/<n>.npy``: every numeric array, stored uncompressed.

The zip comment holds a SHA-256 of the whole archive (the seal), so a flipped
byte anywhere is detected. An attacker can recompute checksums and the seal, so
reading never trusts a size it has not checked: the JSON members are inflated
through a capped stream, arrays must be stored uncompressed (their declared
size is then the number of bytes really in the file), every ``.npy`` header is
parsed and checked against the shape the caller expects before its body is
allocated, and JSON nesting depth is bounded before parsing.
"""

import hashlib
import io
import json
import math
import re
import struct
import zipfile
from tokenize import TokenError

import numpy as np

from tsrnn._validation import is_positive_int
from tsrnn.modelfile.errors import ModelFileError

FORMAT_NAME = "tsrnn-model"
#: Bumped when the layout changes in a way older readers cannot follow.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.json"
SEAL_PREFIX = b"tsrnn-sha256:"
#: Caps on the inflated size of the JSON members.
MAX_MANIFEST_BYTES = 1 << 20
MAX_STATE_BYTES = 1 << 26
#: Deepest JSON nesting a model state needs is about 12; far below recursion limits.
MAX_JSON_DEPTH = 64
_ARRAY_NAME = re.compile(r"arrays/[0-9]{1,9}\.npy")
_CHUNK = 1 << 20


def sha256(data):
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def npy_bytes(a):
    """The ``.npy`` serialisation of ``a`` (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# --- writing ------------------------------------------------------------------------------


def pack(manifest, members):
    """A sealed zip archive, as bytes, of a manifest and members.

    Parameters
    ----------
    manifest : dict
        Written as JSON, with the members' SHA-256 checksums added.
    members : dict of str to bytes
        Member name to content; ``.npy`` members are stored, others deflated.

    Returns
    -------
    bytes
    """
    manifest = dict(manifest, checksums={k: sha256(v) for k, v in members.items()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for member, data in members.items():
            # Float weights barely compress: store arrays, deflate the JSON.
            kind = zipfile.ZIP_STORED if member.endswith(".npy") else zipfile.ZIP_DEFLATED
            zf.writestr(member, data, compress_type=kind)
    return seal(buf.getvalue())


def seal(data):
    """Put a SHA-256 of the whole archive in the zip comment.

    The hash covers every byte before the comment-length field (the last two bytes
    of a comment-less archive), so any flipped or missing byte anywhere in the file
    is detected, including in zip headers that the member checksums do not cover.
    """
    comment = SEAL_PREFIX + sha256(data[:-2]).encode()
    return data[:-2] + struct.pack("<H", len(comment)) + comment


# --- reading ------------------------------------------------------------------------------


def check_seal(data, comment, shown):
    """Raise unless the archive's comment is a seal matching ``data``."""
    if not comment.startswith(SEAL_PREFIX):
        raise ModelFileError(f"{shown!r} is not a tsrnn model file (no integrity seal)")
    start = len(data) - len(comment) - 2
    length_field = struct.unpack("<H", data[start : start + 2])[0] if start >= 0 else -1
    if (
        length_field != len(comment)
        or sha256(data[:start]).encode() != comment[len(SEAL_PREFIX) :]
    ):
        raise ModelFileError(
            f"{shown!r} is corrupt or truncated: its checksum does not match its contents"
        )


def _max_depth(text):
    """Deepest bracket nesting of JSON ``text`` (strings ignored), without recursion."""
    bare = re.sub(rb'"[^"\\]*(?:\\.[^"\\]*)*"', b"", text)
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max()) if steps.size else 0


def _no_duplicates(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a JSON object repeats a key")
    return out


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(data, what):
    """Parse JSON ``data`` (bytes) after checking its nesting depth."""
    try:
        depth = _max_depth(data)
        if depth > MAX_JSON_DEPTH:
            raise ModelFileError(
                f"{what} is nested {depth} levels deep; a model state needs at most "
                f"{MAX_JSON_DEPTH}"
            )
        return json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except ModelFileError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{what} is not valid JSON ({exc})") from None


class Archive:
    """Bounded, checked reading of the members of an opened, sealed model file.

    Parameters
    ----------
    zf : zipfile.ZipFile
    shown : str
        How errors name the file.
    """

    def __init__(self, zf, shown):
        self.zf = zf
        self.shown = shown
        infos = zf.infolist()
        self.infos = {info.filename: info for info in infos}
        if len(self.infos) != len(infos):
            raise ModelFileError(f"{shown!r}: a member name occurs twice in the archive")
        if MANIFEST not in self.infos:
            raise ModelFileError(f"{shown!r} is not a tsrnn model file (it has no manifest)")
        self.manifest = parse_json(self._read(MANIFEST, MAX_MANIFEST_BYTES), "manifest.json")
        self._check_manifest()
        self._check_sizes()
        self.unread = set(self.infos) - {MANIFEST}

    def _check_sizes(self):
        """Bound every member's declared size before any is read.

        Arrays are stored, so their size is bytes really in the file; the state has its cap.
        """
        for name, info in self.infos.items():
            if name == MANIFEST:
                continue
            if name == STATE:
                if info.file_size > MAX_STATE_BYTES:
                    self._fail(
                        f"member {name!r} declares {info.file_size} bytes; at most "
                        f"{MAX_STATE_BYTES} are allowed"
                    )
            elif info.compress_type != zipfile.ZIP_STORED:
                self._fail(
                    f"member {name!r} uses an unsupported compression method "
                    f"({info.compress_type})"
                )
            elif info.file_size != info.compress_size:
                self._fail(
                    f"array {name!r} declares {info.file_size} bytes but holds "
                    f"{info.compress_size}"
                )

    def _fail(self, message):
        raise ModelFileError(f"{self.shown!r}: {message}")

    def _check_manifest(self):
        manifest = self.manifest
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ModelFileError(f"{self.shown!r} is not a tsrnn model file")
        version = manifest.get("format_version")
        if not is_positive_int(version):
            self._fail(f"format_version must be a positive integer, got {version!r:.80}")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{self.shown!r} was written by tsrnn {manifest.get('tsrnn_version')!r:.40} in "
                f"model format {version}; this tsrnn reads format {FORMAT_VERSION} and older: "
                "upgrade tsrnn to load it"
            )
        if not isinstance(manifest.get("class"), str):
            self._fail(f"the manifest's class must be a name, got {manifest.get('class')!r:.80}")
        checksums = manifest.get("checksums")
        if not isinstance(checksums, dict) or set(checksums) != set(self.infos) - {MANIFEST}:
            self._fail("the list of members does not match the manifest (the file was altered)")
        for name, digest in checksums.items():
            if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                self._fail(f"the manifest's checksum of {name!r:.80} is not a SHA-256")
            if name != STATE and not _ARRAY_NAME.fullmatch(name):
                self._fail(f"unexpected member {name!r:.80}")
        if STATE not in checksums:
            self._fail("the model state (state.json) is missing")

    def _stream(self, name, allowed_methods):
        info = self.infos[name]
        if info.compress_type not in allowed_methods:
            self._fail(
                f"member {name!r} uses an unsupported compression method ({info.compress_type})"
            )
        if info.flag_bits & 0x1:
            self._fail(f"member {name!r} is encrypted")
        return info, self.zf.open(info)

    def _read(self, name, cap):
        """Inflate JSON member ``name``, refusing it past ``cap`` bytes.

        The cap holds whatever the member's header declares.
        """
        info = self.infos[name]
        if info.file_size > cap:
            self._fail(
                f"member {name!r} declares {info.file_size} bytes; at most {cap} are allowed"
            )
        info, stream = self._stream(name, (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
        # In chunks, so that a member inflating past its declared size is stopped
        # after one chunk, not after ``cap`` bytes.
        limit = min(cap, info.file_size)
        data = bytearray()
        with stream:
            while len(data) <= limit:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                data += chunk
        if len(data) > limit:
            self._fail(f"member {name!r} inflates past its declared {info.file_size} bytes")
        return bytes(data)

    def _verify(self, name, digest):
        if digest != self.manifest["checksums"][name]:
            self._fail(f"checksum mismatch in {name!r} (the file is corrupt or was altered)")
        self.unread.discard(name)

    def state(self):
        """The parsed ``state.json``."""
        data = self._read(STATE, MAX_STATE_BYTES)
        self._verify(STATE, sha256(data))
        return parse_json(data, "state.json")

    def array(self, name, shape=None, dtype_kinds="biufcMmUS", dtype=None):
        """Read array member ``name``.

        Its ``.npy`` header is parsed and checked first: the dtype must be one of
        ``dtype_kinds`` (and equal ``dtype`` if given), the shape must equal ``shape``
        if given, and the body size the header implies must match the member's size,
        so nothing is allocated for a header that lies.
        """
        if not isinstance(name, str) or name not in self.infos or name in (STATE, MANIFEST):
            self._fail(f"the state refers to a missing array {name!r:.80}")
        info, stream = self._stream(name, (zipfile.ZIP_STORED,))
        if info.file_size != info.compress_size:
            self._fail(
                f"array {name!r} declares {info.file_size} bytes but holds {info.compress_size}"
            )
        with stream:
            digest = hashlib.sha256()
            head = _HashingReader(stream, digest)
            try:
                major, minor = np.lib.format.read_magic(head)
                reader = {
                    (1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0,
                }.get((major, minor))
                if reader is None:
                    raise ValueError(f"unsupported .npy version {major}.{minor}")
                found_shape, fortran, found_dtype = reader(head)
            # What numpy's header parser (literal_eval of at most 10 kB) raises for junk.
            except (
                ValueError,
                SyntaxError,
                EOFError,
                TypeError,
                TokenError,
                RecursionError,
                OverflowError,
                MemoryError,
            ) as exc:
                self._fail(f"{name} has an invalid .npy header ({exc})")
            if (
                found_dtype.hasobject
                or found_dtype.kind not in dtype_kinds
                or (dtype is not None and found_dtype != np.dtype(dtype))
            ):
                self._fail(
                    f"{name} cannot be read safely: it holds dtype {found_dtype}, which "
                    "is not allowed here (object arrays would need pickle)"
                )
            if any(d < 0 for d in found_shape):
                self._fail(f"{name} has a negative dimension in its shape {found_shape}")
            if shape is not None and tuple(found_shape) != tuple(shape):
                self._fail(f"{name} has shape {found_shape}, expected {tuple(shape)}")
            size = math.prod(found_shape) * found_dtype.itemsize
            if head.count + size != info.file_size:
                self._fail(
                    f"{name}: its header declares {size} bytes of data, but the member "
                    f"holds {info.file_size - head.count}"
                )
            body = bytearray(size)
            view = memoryview(body)
            done = 0
            while done < size:
                n = stream.readinto(view[done : done + _CHUNK])
                if not n:
                    self._fail(f"{name} is truncated")
                done += n
            digest.update(body)
        self._verify(name, digest.hexdigest())
        out = np.frombuffer(body, dtype=found_dtype)
        try:
            if fortran:
                return out.reshape(found_shape[::-1]).transpose()
            return out.reshape(found_shape)
        except ValueError:  # e.g. an empty array with dimensions beyond numpy's limits
            self._fail(f"{name} has an unusable shape {found_shape}")

    def check_all_read(self):
        """Raise if a member was never referenced by the state."""
        if self.unread:
            self._fail(f"members {sorted(self.unread)} are not part of the model state")


class _HashingReader:
    """A file-like reader that hashes and counts what passes through."""

    def __init__(self, stream, digest):
        self.stream, self.digest, self.count = stream, digest, 0

    def read(self, n=-1):
        if n is None or n < 0:
            raise ValueError("unbounded read of a .npy header")
        data = self.stream.read(n)
        self.digest.update(data)
        self.count += len(data)
        return data


def open_archive(data, shown):
    """Check the seal of the model file ``data`` (bytes) and return an :class:`Archive`."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        check_seal(data, zf.comment, shown)
        return Archive(zf, shown)
    except ModelFileError:
        raise
    except zipfile.BadZipFile as exc:
        raise ModelFileError(
            f"{shown!r} is not a tsrnn model file, or it is truncated or corrupt ({exc})"
        ) from None
    except (EOFError, ValueError, RuntimeError, NotImplementedError, OSError) as exc:
        raise ModelFileError(
            f"{shown!r} could not be read as a tsrnn model file: it is "
            f"truncated or corrupt ({exc})"
        ) from None
