"""Reading one layer blob as a stream: detect its compression by magic, decompress on the fly,
walk the tar headers, and hash each regular file's content in chunks while it streams past.

Nothing is written to disk and no file content is held in memory: at most a chunk
(``CHUNK`` bytes) of decompressed data at a time, whatever a header declares. The blob is
read to its end and counted (and hashed when asked), so the caller gets its real size and
sha256 without a second pass.

Plain ustar/GNU headers of common types are parsed here (the hot path on layers with many
small files); everything else (PAX records, GNU long names, base-256 numbers) goes through
``tarfile.TarInfo.fromtarfile``. The walk is ours and strict: a truncated header or member,
a bad checksum or a broken gzip/zstd stream is an ``ImageError``, never a silent early end
of the layer. PAX global headers are consumed and not applied to later members (Go's
archive/tar, hence dive, does not apply them either).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from sizebot.errors import ImageError
from sizebot.image.limits import DEFAULT_LIMITS, ImageLimits

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# tar type flags, as in the tar header
REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


class _StreamBroken(Exception):
    """Raised inside the decompressing reader; turned into an ImageError naming the layer."""


@dataclass(frozen=True, slots=True)  # one per tar entry / path: tens of thousands
class TarEntry:
    """One tar header of a layer, as dive sees it (name cleaned like Go's path.Clean)."""

    path: str  # cleaned name, "etc/passwd", "../x", "/abs" (never "." : those are dropped, as dive does)
    type: bytes  # tar type flag: b"0" file, b"5" dir, b"2" symlink, b"1" hardlink, ...
    size: int  # declared size from the header (dive's unit of account, whatever the type)
    mode: int
    uid: int
    gid: int
    link: str  # link target ("" unless a link)
    digest: str  # "sha256:<hex>" of the content for regular files, "" otherwise

    @property
    def is_dir(self) -> bool:
        return self.type == tarfile.DIRTYPE

    @property
    def is_regular(self) -> bool:
        return self.type in REGULAR


@dataclass(frozen=True)
class LayerContents:
    entries: tuple[TarEntry, ...]  # in tar order
    compression: str  # "none", "gzip", "zstd"
    blob_digest: str  # "sha256:<hex>" of the blob bytes as stored ("" when not asked for)
    blob_size: int  # bytes of the blob as stored


def detect_compression(head: bytes) -> str:
    """The compression of a blob from its first bytes: "gzip", "zstd" or "none" (plain tar)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


_CONTROL = {i: f"\\x{i:02x}" for i in (*range(32), 127)}


def printable(name: str) -> str:
    """A tar or manifest name for a one-line error message (control characters escaped)."""
    return name.translate(_CONTROL)


def clean_path(name: str) -> str:
    """Go's path.Clean, which dive applies to every tar name ("./a/../b/" -> "b", "" -> ".")."""
    if name == "":
        return "."
    cleaned = posixpath.normpath(name)
    # posixpath keeps a leading "//"; Go's Clean reduces it to "/".
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


class _Raw(io.RawIOBase):
    """A RawIOBase whose subclasses implement read(); readinto() on top, for io.BufferedReader."""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class _Forward:
    """Buffered, forward-only file object for TarFile: read, tell, and seek ahead by skipping.
    (tarfile's own stream mode re-copies its whole buffer on every 512-byte header read.)"""

    def __init__(self, raw: io.RawIOBase):
        self._buf = io.BufferedReader(raw, buffer_size=256 * 1024)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        data = self._buf.read(n)
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos

    def peek_block(self) -> bytes:
        """The next 512 bytes without consuming them, or fewer at the end of the stream."""
        data = self._buf.peek(512)
        return data[:512]

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos < self._pos:
            raise _StreamBroken("internal: backward seek in a layer stream")
        while self._pos < pos:
            if not self.read(min(pos - self._pos, CHUNK)):
                break  # end of data: the caller compares tell() with where it wanted to be
        return self._pos


class _HashingReader(_Raw):
    """The raw blob: counts and hashes every byte read from it."""

    def __init__(self, raw: BinaryIO, digest: bool):
        self._raw = raw
        self.sha = hashlib.sha256() if digest else None
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(CHUNK if n is None or n < 0 else n)
        if self.sha is not None:
            self.sha.update(data)
        self.count += len(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class _InflateCap:
    """Counts the bytes a compressed layer inflates to; past the cap, the layer is refused."""

    def __init__(self, cap: int | None, why: str):
        self.cap = cap
        self.why = why
        self.total = 0

    def count(self, n: int) -> None:
        self.total += n
        if self.cap is not None and self.total > self.cap:
            raise _StreamBroken(f"inflates to more than {self.cap} bytes ({self.why}; see docs/image.md, Limits)")


class _Gunzip(_Raw):
    """A forward-only readable over a gzip stream, several members in a row (estargz) included.
    Output per call is bounded (zlib's max_length), so a gzip bomb cannot balloon memory."""

    def __init__(self, raw: io.RawIOBase, cap: _InflateCap):
        self._raw = raw
        self._cap = cap
        self._pending = b""  # compressed bytes not yet fed
        self._out = b""
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False  # the current member received input
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK
        while len(self._out) < n and not self._eof:
            self._fill(n)
        data, self._out = self._out[:n], self._out[n:]
        self._cap.count(len(data))
        return data

    def _fill(self, want: int) -> None:
        data = self._pending or self._raw.read(256 * 1024)
        self._pending = b""
        if not data:
            if self._started:
                raise _StreamBroken("gzip stream is truncated (ends inside a compressed member)")
            self._eof = True
            return
        self._started = True
        try:
            self._out += self._obj.decompress(data, max(want - len(self._out), 64 * 1024))
        except zlib.error as exc:
            raise _StreamBroken(f"bad gzip stream: {exc}") from None
        self._pending = self._obj.unconsumed_tail
        if self._obj.eof:
            # Another member may follow (estargz is one member per file); zero padding may end the blob.
            unused = self._obj.unused_data
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = False
            self._pending = unused if unused.strip(b"\0") else b""


class _Unzstd(_Raw):
    """A forward-only readable over zstd frames (output per call bounded by the request)."""

    def __init__(self, raw: io.RawIOBase, cap: _InflateCap):
        self._reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)
        self._cap = cap

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK
        try:
            data = self._reader.read(n)
        except zstandard.ZstdError as exc:
            raise _StreamBroken(f"bad zstd stream: {exc}") from None
        self._cap.count(len(data))
        return data


class _PeekReader(_Raw):
    """Give back the bytes read to sniff the magic, then the rest of the stream."""

    def __init__(self, head: bytes, raw: _HashingReader):
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK
        if self._head:
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._raw.read(n)


@dataclass
class EntryBudget:
    """What is left of an image's allowance of tar entries and name bytes (ImageLimits), shared by its layers."""

    entries: int
    name_bytes: int
    special_header: int = DEFAULT_LIMITS.max_special_header

    @classmethod
    def of(cls, limits: ImageLimits) -> EntryBudget:
        return cls(limits.max_entries, limits.max_name_bytes, limits.max_special_header)


def read_layer(
    raw: BinaryIO,
    *,
    where: str,
    max_entry_size: int | None = None,
    blob_digest: bool = True,
    budget: EntryBudget | None = None,
    max_inflated: int | None = None,
    inflate_why: str = "",
) -> LayerContents:
    """Stream one layer blob and return its tar entries with content digests.

    ``where`` names the archive and the layer in error messages. ``max_entry_size`` (the
    blob size for an uncompressed blob) rejects a header that declares more bytes than the
    blob can hold before anything is read. ``blob_digest=False`` skips hashing the blob
    itself (when its digest is known and need not be verified). ``budget`` (consumed) bounds
    the entries and name bytes kept; ``max_inflated`` the bytes a compressed blob may inflate
    to (``inflate_why`` says where that figure comes from).
    """
    if budget is None:
        budget = EntryBudget.of(DEFAULT_LIMITS)
    hashing = _HashingReader(raw, blob_digest)
    head = hashing.read(8)
    compression = detect_compression(head)
    stream: io.RawIOBase = _PeekReader(head, hashing)
    cap = _InflateCap(max_inflated, inflate_why)
    if compression == "gzip":
        stream = _Gunzip(stream, cap)
    elif compression == "zstd":
        stream = _Unzstd(stream, cap)
    if compression != "none":
        max_entry_size = None
    try:
        # A compressed stream must end with the tar's end-of-archive block: a zstd frame cut short
        # yields whole blocks and then nothing, which would otherwise look like a clean end.
        entries = _walk_tar(stream, where, max_entry_size, plain=compression == "none", budget=budget)
        hashing.drain()
    except _StreamBroken as exc:
        raise ImageError(f"{where}: {exc}") from None
    except OSError as exc:
        raise ImageError(f"{where}: cannot read: {exc}") from None
    return LayerContents(
        entries=tuple(entries),
        compression=compression,
        blob_digest="sha256:" + hashing.sha.hexdigest() if hashing.sha is not None else "",
        blob_size=hashing.count,
    )


def _walk_tar(
    stream: io.RawIOBase, where: str, max_entry_size: int | None, plain: bool, budget: EntryBudget
) -> list[TarEntry]:
    # Our own header loop over a TarFile on a forward-only stream (TarFile.next() would end silently on a
    # truncated header; it also keeps every member in memory).
    forward = _Forward(stream)
    _check_special(forward.peek_block(), 0, where, budget.special_header)
    try:
        tf = tarfile.TarFile(fileobj=forward, mode="r")  # type: ignore[arg-type]
    except tarfile.ReadError as exc:
        if str(exc) == "empty file":
            if plain:
                return []  # a 0-byte layer: Go's tar reader sees an empty archive, so does dive
            raise ImageError(f"{where}: truncated: the compressed stream holds no complete data") from None
        raise ImageError(f"{where}: not a tar stream ({exc})") from None
    entries: list[TarEntry] = []
    ti = tf.firstmember
    tf.firstmember = None
    tf.members = []
    while ti is not None:
        budget.entries -= 1
        budget.name_bytes -= len(ti.name) + len(ti.linkname)
        if budget.entries < 0:
            raise ImageError(f"{where}: the image holds more tar entries than the limit (see docs/image.md, Limits)")
        if budget.name_bytes < 0:
            raise ImageError(f"{where}: the image's tar entry names are longer in all than the limit (see docs/image.md, Limits)")
        entry = _entry(tf, ti, where, max_entry_size)
        if entry.path != ".":  # dive drops "." (and "./") entries before counting anything
            entries.append(entry)
        tf.pax_headers = {}  # PAX globals apply to nothing (as in Go's archive/tar)
        ti = _next(tf, where, plain, budget.special_header)
    return entries


def _next(tf: tarfile.TarFile, where: str, plain: bool, max_special: int) -> tarfile.TarInfo | None:
    stream = tf.fileobj
    stream.seek(tf.offset)
    if stream.tell() != tf.offset:
        raise ImageError(f"{where}: truncated tar (data of the last member is cut short)")
    block = stream.peek_block()  # type: ignore[union-attr]
    fast = _fast_header(block, tf.offset)
    if fast is not None:
        stream.read(512)
        tf.offset = fast.offset_data + (((fast.size + 511) // 512) * 512 if fast.type in REGULAR else 0)
        return fast
    _check_special(block, tf.offset, where, max_special)
    try:
        return tf.tarinfo.fromtarfile(tf)
    except tarfile.EOFHeaderError:
        return None  # the end-of-archive zero block; anything after it (estargz TOC) is not part of the tar
    except tarfile.EmptyHeaderError:
        if plain:
            return None  # the blob ends at a block boundary: Go's reader accepts this too
        raise ImageError(f"{where}: truncated: the stream ends at offset {tf.offset} without the tar end blocks") from None
    except tarfile.TruncatedHeaderError:
        raise ImageError(f"{where}: truncated tar (ends inside a header at offset {tf.offset})") from None
    except tarfile.HeaderError as exc:
        raise ImageError(f"{where}: bad tar header at offset {tf.offset}: {exc}") from None


def _check_special(block: bytes, offset: int, where: str, max_special: int) -> None:
    """tarfile reads a PAX or GNU long-name record whole: bound it as Go's archive/tar does."""
    if len(block) == 512 and block[156:157] in _SPECIAL:
        size = _octal(block[124:136])
        if size is None or block[124] & 0x80 or size > max_special:
            raise ImageError(f"{where}: tar extension header at offset {offset} is larger than {max_special} bytes")


def _entry(tf: tarfile.TarFile, ti: tarfile.TarInfo, where: str, max_entry_size: int | None) -> TarEntry:
    # tarfile already strips a directory's trailing "/", turning a "/" entry into "".
    name = clean_path("/" if ti.isdir() and ti.name == "" else ti.name)
    if ti.sparse is not None:
        raise ImageError(f"{where}: {printable(ti.name)}: GNU sparse files are not supported")
    if ti.size < 0:
        raise ImageError(f"{where}: {printable(ti.name)}: negative size in tar header")
    digest = ""
    if ti.type in REGULAR and name != ".":
        if max_entry_size is not None and ti.size > max_entry_size:
            raise ImageError(
                f"{where}: {printable(ti.name)}: header declares {ti.size} bytes but the layer holds only {max_entry_size}"
            )
        digest = _hash_member(tf, ti, where)
    return TarEntry(
        path=name,
        type=ti.type,
        size=ti.size,
        mode=ti.mode,
        uid=ti.uid,
        gid=ti.gid,
        link=ti.linkname,
        digest=digest,
    )


def _hash_member(tf: tarfile.TarFile, ti: tarfile.TarInfo, where: str) -> str:
    stream = tf.fileobj
    stream.seek(ti.offset_data)
    h = hashlib.sha256()
    remaining = ti.size
    while remaining:
        chunk = stream.read(min(remaining, CHUNK))
        if not chunk:
            raise ImageError(
                f"{where}: {printable(ti.name)}: truncated ({ti.size} bytes declared, {ti.size - remaining} present)"
            )
        h.update(chunk)
        remaining -= len(chunk)
    return "sha256:" + h.hexdigest()


_FAST_TYPES = frozenset(b"01234567\0")
_SPECIAL = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_USTAR = b"ustar\x0000"
_GNU = b"ustar  \x00"


def _octal(field: bytes) -> int | None:
    end = field.find(b"\0")
    text = (field if end < 0 else field[:end]).strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        return None


def _text(field: bytes) -> str:
    end = field.find(b"\0")
    return (field if end < 0 else field[:end]).decode("utf-8", "surrogateescape")


def _fast_header(block: bytes, offset: int) -> tarfile.TarInfo | None:
    """Parse a plain ustar/GNU header of a common type directly (tarfile.TarInfo.frombuf is
    the bulk of the cost on layers with many small files). Anything unusual (PAX and GNU
    extension records, base-256 numbers, sparse files, V7 headers, a bad checksum) returns
    None and goes through tarfile."""
    if len(block) < 512 or block[156] not in _FAST_TYPES:
        return None
    magic = block[257:265]
    if magic != _USTAR and magic != _GNU:
        return None
    if block[124] & 0x80 or block[100] & 0x80 or block[108] & 0x80 or block[116] & 0x80:
        return None
    chksum = _octal(block[148:156])
    if chksum is None or chksum != sum(block) - sum(block[148:156]) + 256:
        return None
    size, mode, uid, gid = _octal(block[124:136]), _octal(block[100:108]), _octal(block[108:116]), _octal(block[116:124])
    if size is None or mode is None or uid is None or gid is None:
        return None
    name = _text(block[0:100])
    if magic == _USTAR and block[345]:
        name = _text(block[345:500]) + "/" + name  # ustar splits long names (Go: for ustar/PAX only)
    kind = block[156:157]
    if kind == tarfile.AREGTYPE:
        if name.endswith("/"):
            return None  # V7 directory spelling: let tarfile handle it
        kind = tarfile.REGTYPE
    ti = tarfile.TarInfo()
    ti.name = name.rstrip("/") if kind == tarfile.DIRTYPE else name
    ti.type = kind
    ti.size = size
    ti.mode = mode
    ti.uid = uid
    ti.gid = gid
    ti.linkname = _text(block[157:257])
    ti.offset = offset
    ti.offset_data = offset + 512
    return ti
