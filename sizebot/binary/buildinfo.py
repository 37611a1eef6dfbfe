"""Go build info: the "\\xff Go buildinf:" blob -> ``BuildInfo`` (what ``go version -m`` prints).

Blob layout (a 32-byte header, 16-aligned): 14 bytes of magic, pointer size, flags. With flag 0x2
(Go 1.18+) the Go version and the module info follow as varint-length-prefixed strings; without it
(Go <= 1.17) two pointers at offset 16 and 16+ptrsize point to Go string headers (data, len).
The module info carries 16 sentinel bytes at each end, which are stripped.

Where it is: ELF ``.go.buildinfo``, Mach-O ``__go_buildinfo``; PE has no section of its own, so
``.data`` is scanned for the magic at 16-byte alignment; last resort, the whole file.
"""

from __future__ import annotations

from collections.abc import Callable

from sizebot.binary.binaryfile import BinaryFile, ByteOrder
from sizebot.documents.analyze import BuildInfo, Module
from sizebot.errors import BinaryFormatError, UnsupportedGoVersion

MAGIC = b"\xff Go buildinf:"
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 0x1, 0x2


def find_buildinfo_blob(binary: BinaryFile) -> int:
    """File offset of the build info header, or -1 when there is none (not a Go binary)."""
    regions = []
    sec = binary.buildinfo_section()
    if sec is not None:
        regions.append((sec.offset, sec.offset + sec.file_size))
    regions += [(s.offset, s.offset + s.file_size) for s in binary.data_sections()]
    regions.append((0, binary.file_size))
    for start, end in regions:
        pos = binary.find_bytes(MAGIC, start, end)
        while pos >= 0:
            if (pos - start) % 16 == 0 and pos + 32 <= binary.file_size:
                return pos
            pos = binary.find_bytes(MAGIC, pos + 1, end)
    return -1


def read_buildinfo_strings(binary: BinaryFile) -> tuple[str, str] | None:
    """(Go version, module info text without sentinels) from the blob; None when there is no blob."""
    pos = find_buildinfo_blob(binary)
    if pos < 0:
        return None
    data = binary.data
    ptr_size, flags = data[pos + 14], data[pos + 15]
    if flags & _FLAG_INLINE:
        vers, nxt = _varint_string(binary, pos + 32)
        mod, _ = _varint_string(binary, nxt)
    else:
        if ptr_size not in (4, 8):
            raise BinaryFormatError(f"build info has a bad pointer size {ptr_size}", path=binary.path)
        order: ByteOrder = "big" if flags & _FLAG_BIG_ENDIAN else "little"
        try:
            vers = _pointer_string(binary, pos + 16, ptr_size, order)
            mod = _pointer_string(binary, pos + 16 + ptr_size, ptr_size, order)
        except BinaryFormatError:
            raise UnsupportedGoVersion(
                "build info uses the pre-Go 1.18 pointer layout and its strings cannot be resolved", path=binary.path
            ) from None
    if len(mod) >= 33 and mod[-17] == "\n":
        mod = mod[16:-16]
    else:
        mod = ""
    return vers, mod


def parse_buildinfo(binary: BinaryFile) -> BuildInfo | None:
    """The binary's build info, None when it has no build info blob (not a Go binary)."""
    found = read_buildinfo_strings(binary)
    if found is None:
        return None
    vers, mod = found
    try:
        info = parse_modinfo(mod)
    except ValueError as e:
        raise BinaryFormatError(f"unreadable Go module info: {e}", path=binary.path) from None
    return BuildInfo(go_version=vers, path=info.path, main=info.main, deps=info.deps, settings=info.settings)


def parse_modinfo(text: str) -> BuildInfo:
    """Parse module info exactly as ``go version -m`` prints it (runtime/debug.ParseBuildInfo rules):
    tab-separated ``go``, ``path``, ``mod``, ``dep``, ``=>`` (replaces the module on the line before)
    and ``build key=value`` lines, key and value quoted with strconv.Quote when they need it.
    Lines may carry ``go version -m``'s leading tab. ValueError on a malformed line."""
    go_version, path = "", ""
    main: Module | None = None
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    last = ""  # "mod" or "dep": what a "=>" line replaces
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line[1:] if line.startswith("\t") else line
        if not line:
            continue
        word, _, rest = line.partition("\t")
        if word == "go":
            go_version = rest
        elif word == "path":
            path = rest
        elif word in ("mod", "dep", "=>"):
            fields = rest.split("\t")
            if len(fields) < 2 or not fields[0]:
                raise ValueError(f"line {lineno}: expected {word}<TAB>path<TAB>version, got {line!r}")
            module = Module(path=fields[0], version=fields[1], sum=fields[2] if len(fields) > 2 else "")
            if word == "mod":
                main, last = module, "mod"
            elif word == "dep":
                deps.append(module)
                last = "dep"
            elif last == "mod" and main is not None:
                main = Module(main.path, main.version, main.sum, replace=module)
            elif last == "dep":
                prev = deps[-1]
                deps[-1] = Module(prev.path, prev.version, prev.sum, replace=module)
            else:
                raise ValueError(f"line {lineno}: replacement without a module before it")
        elif word == "build":
            settings.append(_build_setting(rest, lineno))
        else:
            raise ValueError(f"line {lineno}: unknown line {line!r}")
    return BuildInfo(go_version=go_version, path=path, main=main, deps=tuple(deps), settings=tuple(settings))


def _build_setting(rest: str, lineno: int) -> tuple[str, str]:
    if rest.startswith('"'):
        key, n = go_unquote_prefix(rest)
        rest = rest[n:]
        if not rest.startswith("="):
            raise ValueError(f"line {lineno}: quoted build key not followed by '='")
        raw_value = rest[1:]
    else:
        key, eq, raw_value = rest.partition("=")
        if not eq or not key:
            raise ValueError(f"line {lineno}: build setting without '='")
    if raw_value.startswith('"'):
        value, n = go_unquote_prefix(raw_value)
        if n != len(raw_value):
            raise ValueError(f"line {lineno}: text after quoted build value")
    else:
        value = raw_value
    return key, value


_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def go_unquote_prefix(s: str) -> tuple[str, int]:
    """Decode the double-quoted Go string literal at the start of ``s`` (strconv.QuotedPrefix +
    Unquote): returns (value, characters consumed). ValueError when it is not a valid literal."""
    if not s.startswith('"'):
        raise ValueError("not a quoted string")
    out = bytearray()
    i = 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return out.decode("utf-8", "replace"), i + 1
        if c == "\n":
            break
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= len(s):
            break
        e = s[i + 1]
        if e in _SIMPLE:
            out.append(_SIMPLE[e])
            i += 2
        elif e == "x":
            out.append(int(_hex(s, i + 2, 2), 16))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            out += chr(int(_hex(s, i + 2, n), 16)).encode("utf-8", "surrogatepass")
            i += 2 + n
        elif e in "01234567":
            digits = s[i + 1 : i + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise ValueError(f"bad octal escape in {s!r}")
            out.append(int(digits, 8))
            i += 4
        else:
            raise ValueError(f"bad escape \\{e} in {s!r}")
    raise ValueError(f"unterminated quoted string {s!r}")


def _hex(s: str, start: int, n: int) -> str:
    digits = s[start : start + n]
    if len(digits) != n or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise ValueError(f"bad hex escape in {s!r}")
    return digits


def _varint_string(binary: BinaryFile, pos: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        if pos >= binary.file_size or shift > 63:
            raise BinaryFormatError("build info string length runs past the end of the file", path=binary.path)
        b = binary.data[pos]
        pos += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if pos + length > binary.file_size:
        raise BinaryFormatError("build info string runs past the end of the file", path=binary.path)
    return bytes(binary.data[pos : pos + length]).decode("utf-8", "replace"), pos + length


def _pointer_string(binary: BinaryFile, field: int, ptr_size: int, order: ByteOrder) -> str:
    header_addr = int.from_bytes(binary.data[field : field + ptr_size], order)
    header = binary.read_vaddr(header_addr, 2 * ptr_size)
    data_addr = int.from_bytes(header[:ptr_size], order)
    length = int.from_bytes(header[ptr_size:], order)
    if length == 0:
        return ""
    if length > binary.file_size:
        raise BinaryFormatError("build info string is longer than the file", path=binary.path)
    return bytes(binary.read_vaddr(data_addr, length)).decode("utf-8", "replace")


def module_for_package(pkg: str, modules: list[str] | tuple[str, ...], main_module: str) -> str:
    """The module a package belongs to: the longest module path that is ``pkg`` or a path-prefix of it
    (modules = dependency paths; main_module is also a candidate). Package "main" (how the main
    package appears in symbol names) belongs to main_module, "" (unknown) when the build info names none
    (`go build main.go`): never "std". Not under any module and a first path
    element without a dot (runtime, net/http, internal/..., vendor/golang.org/x/...) -> "std".
    Otherwise "" (unknown: a module missing from the build info)."""
    return module_finder(modules, main_module)(pkg)


def module_finder(modules: list[str] | tuple[str, ...], main_module: str) -> Callable[[str], str]:
    """module_for_package for many packages of one binary: the module paths in a set, and each
    package's path-prefixes (cut at each "/", longest first) looked up in it."""
    paths = {mod for mod in (*modules, main_module) if mod}

    def module_of(pkg: str) -> str:
        if pkg == "main":
            return main_module
        if pkg in paths:
            return pkg
        cut = pkg.rfind("/")
        while cut > 0:
            if pkg[:cut] in paths:
                return pkg[:cut]
            cut = pkg.rfind("/", 0, cut)
        first = pkg.split("/", 1)[0]
        if first and "." not in first:
            return "std"
        return ""

    return module_of
