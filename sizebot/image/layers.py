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
import struct
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

import zstandard

from sizebot.errors import ImageError
from sizebot.image.limits import DEFAULT_LIMITS, ImageLimits, names_too_long, too_many_entries

CHUNK = 1 << 20
WINDOW = 1 << 20  # bytes of decompressed tar stream buffered at a time
EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# tar type flags, as in the tar header
REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


class _StreamBroken(Exception):
    """Raised inside the decompressing reader; turned into an ImageError naming the layer."""


class TarEntry(NamedTuple):  # one per tar entry: a tuple is the cheapest record to make, keep and pickle
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
    """A RawIOBase whose subclasses implement read(); readinto() on top."""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.read(len(b))
        n = len(data)
        b[:n] = data
        return n


class _Blob(_Raw):
    """The layer blob as stored: counts (and hashes, when asked) every byte read from it."""

    def __init__(self, raw: BinaryIO, digest: bool):
        self._raw = raw
        self._readinto = getattr(raw, "readinto", None)
        self.sha = hashlib.sha256() if digest else None
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(CHUNK if n is None or n < 0 else n)
        if self.sha is not None:
            self.sha.update(data)
        self.count += len(data)
        return data

    def readinto(self, b) -> int:
        if self._readinto is None:
            return super().readinto(b)
        n = self._readinto(b) or 0
        if self.sha is not None:
            self.sha.update(b[:n])
        self.count += n
        return n

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class _Window:
    """The decompressed tar stream, forward only, through one reusable buffer: headers are
    sliced out of it and file contents hashed from it without copying them. Also the file
    object tarfile reads the unusual headers from (read, tell, seek ahead)."""

    def __init__(self, head: bytes, fill):
        self._buf = bytearray(WINDOW)
        self._mv = memoryview(self._buf)
        self._buf[: len(head)] = head
        self._lo = 0
        self._hi = len(head)
        self._pos = 0  # stream offset of buf[lo]
        self._fill = fill  # fill(memoryview) -> bytes written into it, 0 at the end of the stream
        self._eof = False

    def _more(self, need: int) -> bool:
        """At least ``need`` (<= WINDOW) bytes buffered, unless the stream ends first."""
        if self._hi - self._lo >= need:
            return True
        if self._lo:
            rest = bytes(self._mv[self._lo : self._hi])  # a header's worth at most: copy, then move down
            self._buf[: len(rest)] = rest
            self._lo, self._hi = 0, len(rest)
        while self._hi - self._lo < need and not self._eof:
            n = self._fill(self._mv[self._hi :])
            if n:
                self._hi += n
            else:
                self._eof = True
        return self._hi - self._lo >= need

    def peek_block(self) -> bytes:
        """The next 512 bytes without consuming them, or fewer at the end of the stream."""
        self._more(512)
        return bytes(self._mv[self._lo : self._lo + 512])

    def read(self, n: int = -1) -> bytes:
        out = []
        while n:
            if self._lo == self._hi and not self._more(1):
                break
            k = self._hi - self._lo if n < 0 else min(self._hi - self._lo, n)
            out.append(bytes(self._mv[self._lo : self._lo + k]))
            self._lo += k
            self._pos += k
            if n > 0:
                n -= k
        return b"".join(out)

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos < self._pos:
            raise _StreamBroken("internal: backward seek in a layer stream")
        while self._pos < pos:
            if self._lo == self._hi and not self._more(1):
                break  # end of data: the caller compares tell() with where it wanted to be
            k = min(self._hi - self._lo, pos - self._pos)
            self._lo += k
            self._pos += k
        return self._pos

    def hash(self, h, n: int) -> int:
        """Feed the next ``n`` bytes to ``h``; how many there were (fewer at the end of the stream)."""
        done = 0
        while done < n:
            if self._lo == self._hi and not self._more(1):
                break
            k = min(self._hi - self._lo, n - done)
            h.update(self._mv[self._lo : self._lo + k])
            self._lo += k
            self._pos += k
            done += k
        return done

    def fast_header(self) -> _Head | None:
        """The next header, consumed, when it is a plain ustar/GNU header of a common type (nearly
        all of them: tarfile.TarInfo.frombuf is most of the cost on layers with many small files).
        None for anything unusual (PAX and GNU extension records, base-256 numbers, sparse files,
        V7 headers, a bad checksum, the end blocks), which the caller reads through tarfile."""
        if self._hi - self._lo < 512 and not self._more(512):
            return None
        lo = self._lo
        buf = self._buf
        if buf[lo + 156] not in _FAST_TYPES:
            return None
        name, mode, uid, gid, size, _mtime, chksum, kind, link, magic, _u, _g, _ma, _mi, prefix = _HEADER.unpack_from(
            buf, lo
        )
        if magic != _USTAR and magic != _GNU:
            return None
        if size[0] & 0x80 or mode[0] & 0x80 or uid[0] & 0x80 or gid[0] & 0x80:
            return None
        # The sum of the header's bytes, exactly: adler32's low half is 1 + the byte sum modulo 65521,
        # and 256 bytes sum to at most 65,280.
        mv = self._mv
        total = (zlib.adler32(mv[lo : lo + 256]) & 0xFFFF) + (zlib.adler32(mv[lo + 256 : lo + 512]) & 0xFFFF) - 2
        check = _octal(chksum)
        if check is None or check != total - sum(chksum) + 256:
            return None
        size_, mode_, uid_, gid_ = _octal(size), _octal(mode), _octal(uid), _octal(gid)
        if size_ is None or mode_ is None or uid_ is None or gid_ is None:
            return None
        text = name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if magic == _USTAR and prefix[0]:
            # ustar splits long names (Go: for ustar/PAX only)
            text = prefix.split(b"\0", 1)[0].decode("utf-8", "surrogateescape") + "/" + text
        if kind == tarfile.AREGTYPE:
            if text.endswith("/"):
                return None  # V7 directory spelling: let tarfile handle it
            kind = tarfile.REGTYPE
        elif kind == tarfile.DIRTYPE:
            text = text.rstrip("/") or "/"  # as tarfile does; a "/" entry stays "/"
        self._lo = lo + 512
        self._pos += 512
        return text, kind, size_, mode_, uid_, gid_, link.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")

    def close(self) -> None:
        self._mv.release()


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
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True, closefd=False  # type: ignore[arg-type]
        )
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

    def __init__(self, head: bytes, raw: _Blob):
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
    max_entries: int = DEFAULT_LIMITS.max_entries  # the whole allowances, for the messages
    max_name_bytes: int = DEFAULT_LIMITS.max_name_bytes

    @classmethod
    def of(cls, limits: ImageLimits) -> EntryBudget:
        return cls(limits.max_entries, limits.max_name_bytes, limits.max_special_header, limits.max_entries,
                   limits.max_name_bytes)


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
    blob = _Blob(raw, blob_digest)
    head = blob.read(8)
    compression = detect_compression(head)
    cap = _InflateCap(max_inflated, inflate_why)
    fill: Callable[[memoryview], int] = blob.readinto
    if compression != "none":
        decompressed: io.RawIOBase = (_Gunzip if compression == "gzip" else _Unzstd)(_PeekReader(head, blob), cap)
        fill = decompressed.readinto
        head = b""
        max_entry_size = None
    window = _Window(head, fill)
    try:
        # A compressed stream must end with the tar's end-of-archive block: a zstd frame cut short
        # yields whole blocks and then nothing, which would otherwise look like a clean end.
        entries = _walk_tar(window, where, max_entry_size, plain=compression == "none", budget=budget)
        blob.drain()
    except _StreamBroken as exc:
        raise ImageError(f"{where}: {exc}") from None
    except OSError as exc:
        raise ImageError(f"{where}: cannot read: {exc}") from None
    finally:
        window.close()
    return LayerContents(
        entries=tuple(entries),
        compression=compression,
        blob_digest="sha256:" + blob.sha.hexdigest() if blob.sha is not None else "",
        blob_size=blob.count,
    )


# (name, type flag, size, mode, uid, gid, link name) of one tar header
_Head = tuple[str, bytes, int, int, int, int, str]


def _walk_tar(
    window: _Window, where: str, max_entry_size: int | None, plain: bool, budget: EntryBudget
) -> list[TarEntry]:
    # Our own header loop over a TarFile on a forward-only stream (TarFile.next() would end silently on a
    # truncated header; it also keeps every member in memory). tarfile reads the first header and the
    # unusual ones; tf.offset is where the next header starts.
    _check_special(window.peek_block(), 0, where, budget.special_header)
    try:
        tf = tarfile.TarFile(fileobj=window, mode="r")  # type: ignore[arg-type]
    except tarfile.ReadError as exc:
        if str(exc) == "empty file":
            if plain:
                return []  # a 0-byte layer: Go's tar reader sees an empty archive, so does dive
            raise ImageError(f"{where}: truncated: the compressed stream holds no complete data") from None
        raise ImageError(f"{where}: not a tar stream ({exc})") from None
    entries: list[TarEntry] = []
    ti = tf.firstmember  # type: ignore[attr-defined]
    tf.firstmember = None  # type: ignore[attr-defined]
    tf.members = []  # type: ignore[attr-defined]
    head = _from_tarinfo(ti, where) if ti is not None else None
    offset_data = ti.offset_data if ti is not None else 0
    while head is not None:
        name, kind, size, mode, uid, gid, link = head
        budget.entries -= 1
        budget.name_bytes -= len(name) + len(link)
        if budget.entries < 0:
            raise ImageError(f"{where}: {too_many_entries(budget.max_entries)}")
        if budget.name_bytes < 0:
            raise ImageError(f"{where}: {names_too_long(budget.max_name_bytes)}")
        path = _clean_fast(name)
        if path != ".":  # dive drops "." (and "./") entries before counting anything
            digest = ""
            if kind in REGULAR:
                if max_entry_size is not None and size > max_entry_size:
                    raise ImageError(f"{where}: {printable(name)}: header declares {size} bytes"
                                     f" but the layer holds only {max_entry_size}")
                digest = _hash_member(window, offset_data, name, size, where)
            entries.append(TarEntry(path, kind, size, mode, uid, gid, link, digest))
        tf.pax_headers = {}  # PAX globals apply to nothing (as in Go's archive/tar)
        head, offset_data = _next(tf, window, where, plain, budget.special_header)
    return entries


def _clean_fast(name: str) -> str:
    """clean_path(name), without the call for the names that are already clean (nearly all)."""
    if name and "//" not in name and "/." not in name and name[0] != "." and name[-1] != "/":
        return name
    return clean_path(name)


def _next(tf: tarfile.TarFile, window: _Window, where: str, plain: bool, max_special: int) -> tuple[_Head | None, int]:
    """The next header and the offset of its data; (None, 0) at the end of the archive."""
    window.seek(tf.offset)
    if window.tell() != tf.offset:
        raise ImageError(f"{where}: truncated tar (data of the last member is cut short)")
    fast = window.fast_header()
    if fast is not None:
        offset_data = tf.offset + 512
        tf.offset = offset_data + (((fast[2] + 511) // 512) * 512 if fast[1] in REGULAR else 0)
        return fast, offset_data
    block = window.peek_block()
    _check_special(block, tf.offset, where, max_special)
    try:
        ti = tf.tarinfo.fromtarfile(tf)
    except tarfile.EOFHeaderError:  # type: ignore[attr-defined]
        return None, 0  # the end-of-archive zero block; anything after it (estargz TOC) is not part of the tar
    except tarfile.EmptyHeaderError:  # type: ignore[attr-defined]
        if plain:
            return None, 0  # the blob ends at a block boundary: Go's reader accepts this too
        raise ImageError(
            f"{where}: truncated: the stream ends at offset {tf.offset} without the tar end blocks"
        ) from None
    except tarfile.TruncatedHeaderError:  # type: ignore[attr-defined]
        raise ImageError(f"{where}: truncated tar (ends inside a header at offset {tf.offset})") from None
    except tarfile.HeaderError as exc:
        raise ImageError(f"{where}: bad tar header at offset {tf.offset}: {exc}") from None
    return _from_tarinfo(ti, where), ti.offset_data


def _from_tarinfo(ti: tarfile.TarInfo, where: str) -> _Head:
    if ti.sparse is not None:
        raise ImageError(f"{where}: {printable(ti.name)}: GNU sparse files are not supported")
    if ti.size < 0:
        raise ImageError(f"{where}: {printable(ti.name)}: negative size in tar header")
    # tarfile already strips a directory's trailing "/", turning a "/" entry into "".
    name = "/" if ti.isdir() and ti.name == "" else ti.name
    return name, ti.type, ti.size, ti.mode, ti.uid, ti.gid, ti.linkname


def _check_special(block: bytes, offset: int, where: str, max_special: int) -> None:
    """tarfile reads a PAX or GNU long-name record whole: bound it as Go's archive/tar does."""
    if len(block) == 512 and block[156:157] in _SPECIAL:
        size = _octal(block[124:136])
        if size is None or block[124] & 0x80 or size > max_special:
            raise ImageError(f"{where}: tar extension header at offset {offset} is larger than {max_special} bytes")


def _hash_member(window: _Window, offset_data: int, name: str, size: int, where: str) -> str:
    if size == 0:
        return EMPTY_DIGEST
    window.seek(offset_data)
    h = hashlib.sha256()
    got = window.hash(h, size)
    if got < size:
        raise ImageError(f"{where}: {printable(name)}: truncated ({size} bytes declared, {got} present)")
    return "sha256:" + h.hexdigest()


_FAST_TYPES = frozenset(b"01234567\0")
_SPECIAL = (
    tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK
)
_USTAR = b"ustar\x0000"
# name, mode, uid, gid, size, mtime, checksum, type, link name, magic+version, user, group, devices, prefix
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s")
_GNU = b"ustar  \x00"


def _octal(field: bytes) -> int | None:
    text = field.split(b"\0", 1)[0]
    try:
        return int(text, 8)
    except ValueError:
        return None if text.strip() else 0
