"""Where an image's config and layer blobs come from, without extracting anything.

One interface, ``ImageSource``: the config (a dict), the layers in order (``LayerBlob``) and
``open_layer(layer)`` giving a readable stream of one blob. ``open_source(path, platform)``
picks the reader:

* a tar file holding ``manifest.json`` (``docker save``): the legacy layout
  (``<id>/layer.tar``), the Docker 25+ layout (an OCI ``index.json`` + ``blobs/sha256`` with
  ``manifest.json`` beside them) and kaniko / go-containerregistry tarballs
  (``<hex>.tar.gz`` layers, a config named ``sha256:<hex>``);
* a tar file or a directory holding an OCI image layout (``index.json`` -> manifest ->
  config + layers in manifest order; nested indexes; multi-platform indexes need a
  ``platform`` when more than one image is listed).

Tar members are read through the outer tarfile's member objects (plain seeks on the outer
file); directory layouts are read from their blob files. Names from manifests never reach
the filesystem unchecked: a layout directory only opens files inside itself.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sizebot.errors import ImageError
from sizebot.image.limits import DEFAULT_LIMITS, ImageLimits

OCI_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
OCI_MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}


@dataclass(frozen=True)
class LayerBlob:
    index: int
    name: str  # where the blob is: a member of the archive or a path inside the layout
    digest: str  # "sha256:<hex>" from the manifest ("" when the format does not say)
    diff_id: str  # from the config's rootfs.diff_ids ("" when absent)
    media_type: str  # from the manifest ("" for legacy docker archives)
    size: int  # bytes of the blob as stored
    linked: bool = False  # the archive member is a symlink to another layer (docker save of a repeated layer)


@dataclass(frozen=True)
class SourceInfo:
    path: str
    format: str  # "docker-archive", "docker-archive-oci", "kaniko", "oci-archive", "oci-layout"
    platform: str  # "os/arch[/variant]" from the config, "" when unknown
    config: dict[str, Any] = field(repr=False)
    config_digest: str
    layers: tuple[LayerBlob, ...]


class ImageSource(ABC):
    """An opened image: its description, and a way to stream each layer blob once."""

    info: SourceInfo

    @abstractmethod
    def open_layer(self, layer: LayerBlob) -> BinaryIO:
        """A readable (binary) stream of the blob as stored; the caller closes it."""

    def locate(self, layer: LayerBlob) -> tuple[str, int, int] | None:
        """(file, offset, size) of the blob's bytes when they lie as they are in a file (a plain
        tar member or a layout's blob file), so that another process can read them; else None."""
        return None

    def close(self) -> None:  # noqa: B027 (nothing to release unless a source says so)
        pass

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Stores: a flat namespace of names -> bytes, over a tar file or a directory.


class _Store(ABC):
    def __init__(self, path: str, limits: ImageLimits):
        self.path = path
        self.limits = limits

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def size(self, name: str) -> int: ...

    @abstractmethod
    def open(self, name: str) -> BinaryIO: ...

    def locate(self, name: str) -> tuple[str, int, int] | None:
        return None

    def close(self) -> None:  # noqa: B027 (a directory holds nothing open)
        pass

    def read_json(self, name: str, what: str) -> Any:
        if not self.exists(name):
            raise ImageError(f"{self.path}: {what} {name!r} is missing")
        size = self.size(name)
        if size > self.limits.max_json_bytes:
            raise ImageError(f"{self.path}: {what} {name!r} is too large ({size} bytes)")
        with self.open(name) as f:
            data = f.read(size)  # read(n) reserves n bytes up front: ask for what is there
        try:
            return json.loads(data)
        except RecursionError:
            raise ImageError(f"{self.path}: {what} {name!r} is nested too deep") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImageError(f"{self.path}: {what} {name!r} is not valid JSON ({exc})") from None


class _TarStore(_Store):
    def __init__(self, path: str, limits: ImageLimits):
        super().__init__(path, limits)
        try:
            self._tar = tarfile.open(path, mode="r:*")
        except tarfile.CompressionError as exc:
            raise ImageError(f"{path}: cannot read its compression ({exc})") from None
        except tarfile.ReadError:
            raise ImageError(f"{path}: not a tar archive (plain, gzip, bzip2 or xz)") from None
        except OSError as exc:
            raise ImageError(f"{path}: cannot open: {exc.strerror or exc}") from None
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            # Headers only: tarfile seeks over member data. A truncated archive fails here.
            while True:
                ti = self._tar.next()
                if ti is None:
                    break
                self._members[_norm(ti.name)] = ti
                self._tar.members = []  # type: ignore[attr-defined]
        except (tarfile.TarError, EOFError, OSError) as exc:
            self._tar.close()
            raise ImageError(f"{path}: broken tar archive ({exc})") from None
        try:
            self._check_complete()
        except ImageError:
            self._tar.close()
            raise

    def _check_complete(self) -> None:
        # TarFile.next() ends silently when the last member's data is cut short: check sizes
        # (plain outer tars only; in a compressed one, reading the member reports it).
        if not isinstance(self._tar.fileobj, io.BufferedReader):
            return
        end = os.fstat(self._tar.fileobj.fileno()).st_size
        for ti in self._members.values():
            if ti.isreg() and ti.offset_data + ti.size > end:
                raise ImageError(f"{self.path}: truncated archive ({ti.name} is cut short)")

    def names(self) -> list[str]:
        return list(self._members)

    def _resolve(self, name: str) -> tarfile.TarInfo | None:
        ti = self._members.get(_norm(name))
        hops = 0
        while ti is not None and (ti.issym() or ti.islnk()):
            # docker save links a layer seen twice to its first copy ("../<id>/layer.tar").
            hops += 1
            if hops > 16:
                raise ImageError(f"{self.path}: {name!r}: too many levels of links")
            base = posixpath.dirname(ti.name) if ti.issym() else ""
            ti = self._members.get(_norm(posixpath.join(base, ti.linkname)))
        return ti

    def exists(self, name: str) -> bool:
        ti = self._resolve(name)
        return ti is not None and ti.isreg()

    def is_symlink(self, name: str) -> bool:
        ti = self._members.get(_norm(name))
        return ti is not None and ti.issym()

    def size(self, name: str) -> int:
        ti = self._resolve(name)
        return ti.size if ti is not None else 0

    def open(self, name: str) -> BinaryIO:
        ti = self._resolve(name)
        if ti is None or not ti.isreg():
            raise ImageError(f"{self.path}: {name!r} is missing from the archive")
        f = self._tar.extractfile(ti)
        assert f is not None
        return f  # type: ignore[return-value]

    def locate(self, name: str) -> tuple[str, int, int] | None:
        ti = self._resolve(name)
        if ti is None or not ti.isreg() or not isinstance(self._tar.fileobj, io.BufferedReader):
            return None  # inside a compressed outer archive: only this stream can read it
        return self.path, ti.offset_data, ti.size

    def close(self) -> None:
        self._tar.close()


class _DirStore(_Store):
    def __init__(self, path: str, limits: ImageLimits):
        super().__init__(path, limits)
        self._root = Path(path).resolve()

    def _file(self, name: str) -> Path | None:
        rel = _norm(name)
        if rel.startswith("../") or rel == ".." or rel.startswith("/"):
            return None
        p = (self._root / rel).resolve()
        if self._root not in p.parents:
            return None  # a name or a link escaping the layout directory
        return p if p.is_file() else None

    def exists(self, name: str) -> bool:
        return self._file(name) is not None

    def size(self, name: str) -> int:
        p = self._file(name)
        return p.stat().st_size if p else 0

    def open(self, name: str) -> BinaryIO:
        p = self._file(name)
        if p is None:
            raise ImageError(f"{self.path}: {name!r} is missing from the layout")
        return open(p, "rb")

    def locate(self, name: str) -> tuple[str, int, int] | None:
        p = self._file(name)
        return (str(p), 0, p.stat().st_size) if p is not None else None


def _norm(name: str) -> str:
    n = posixpath.normpath(name.lstrip("/")) if name not in ("", ".") else "."
    return n[2:] if n.startswith("./") else n


# --------------------------------------------------------------------------------------------


class _StoreSource(ImageSource):
    def __init__(self, store: _Store, info: SourceInfo):
        self._store = store
        self.info = info

    def open_layer(self, layer: LayerBlob) -> BinaryIO:
        if not self._store.exists(layer.name):
            raise ImageError(f"{self._store.path}: layer {layer.index} blob {layer.name!r} is missing")
        return self._store.open(layer.name)

    def locate(self, layer: LayerBlob) -> tuple[str, int, int] | None:
        return self._store.locate(layer.name) if self._store.exists(layer.name) else None

    def close(self) -> None:
        self._store.close()


def open_source(path: str, platform: str | None = None, limits: ImageLimits = DEFAULT_LIMITS) -> ImageSource:
    """Open an image archive (file) or OCI layout (directory). Raises ImageError."""
    p = Path(path)
    if p.is_dir():
        store: _Store = _DirStore(path, limits)
    elif p.is_file():
        store = _TarStore(path, limits)
    else:
        raise ImageError(f"{path}: no such file or directory")
    try:
        info = _describe(store, platform, limits)
    except BaseException:
        store.close()
        raise
    return _StoreSource(store, info)


def _describe(store: _Store, platform: str | None, limits: ImageLimits) -> SourceInfo:
    if store.exists("manifest.json"):
        return _docker_archive(store, platform)
    if store.exists("index.json"):
        return _oci_layout(store, platform, limits)
    raise ImageError(
        f"{store.path}: not an image: no manifest.json (docker save) and no index.json (OCI layout)"
    )


def _docker_archive(store: _Store, platform: str | None) -> SourceInfo:
    manifest = store.read_json("manifest.json", "manifest")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ImageError(f"{store.path}: manifest.json does not list any image")
    entry = manifest[0]  # docker save of several images: the first, as dive does
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError(f"{store.path}: manifest.json has no Config or Layers")
    config = _config(store, config_name)
    diff_ids = _diff_ids(config)
    sources: dict[str, Any] = entry["LayerSources"] if isinstance(entry.get("LayerSources"), dict) else {}
    layers = []
    for i, name in enumerate(layer_names):
        if not isinstance(name, str):
            raise ImageError(f"{store.path}: manifest.json: layer {i} is not a name")
        digest, media_type = "", ""
        base = posixpath.basename(name)
        if name.startswith("blobs/sha256/"):
            digest = "sha256:" + base
        elif base.endswith(".tar.gz") and len(base) == 64 + 7 and all(c in "0123456789abcdef" for c in base[:64]):
            digest = "sha256:" + base[:64]  # go-containerregistry names layers by their (compressed) digest
        elif name.endswith("/layer.tar") and i < len(diff_ids) and diff_ids[i].startswith("sha256:"):
            digest = diff_ids[i]  # a legacy layer.tar is stored uncompressed: its digest is its diff_id
        src = sources.get(diff_ids[i]) if i < len(diff_ids) else None
        if isinstance(src, dict):
            media_type = str(src.get("mediaType", ""))
            digest = digest or str(src.get("digest", ""))
        if not store.exists(name):
            raise ImageError(f"{store.path}: layer {i} blob {name!r} is missing")
        linked = isinstance(store, _TarStore) and store.is_symlink(name)
        diff_id = diff_ids[i] if i < len(diff_ids) else ""
        layers.append(LayerBlob(i, name, digest, diff_id, media_type, store.size(name), linked))
    if config_name.startswith("sha256:") and any(n.endswith(".tar.gz") for n in layer_names):
        fmt = "kaniko"
    elif store.exists("index.json") or config_name.startswith("blobs/"):
        fmt = "docker-archive-oci"
    else:
        fmt = "docker-archive"
    config_digest = config_name if config_name.startswith("sha256:") else ""
    if config_name.startswith("blobs/sha256/"):
        config_digest = "sha256:" + config_name.rsplit("/", 1)[1]
    elif not config_digest and config_name.endswith(".json"):
        config_digest = "sha256:" + posixpath.basename(config_name)[: -len(".json")]
    plat = _platform_of(config)
    if platform and plat and not _platform_matches(platform, plat):
        raise ImageError(f"{store.path}: the archive holds a {plat} image, not {platform}")
    return SourceInfo(store.path, fmt, plat, config, config_digest, tuple(layers))


def _oci_layout(store: _Store, platform: str | None, limits: ImageLimits) -> SourceInfo:
    index = store.read_json("index.json", "index")
    candidates = _manifests(store, index, limits)
    if not candidates:
        raise ImageError(f"{store.path}: index.json lists no image manifest")
    if len(candidates) > 1:
        chosen = [c for c in candidates if platform and _platform_matches(platform, c[0])]
        available = ", ".join(sorted({c[0] or "(unknown)" for c in candidates}))
        if platform is None:
            raise ImageError(
                f"{store.path}: the index lists several images; choose one with --platform ({available})"
            )
        if not chosen:
            raise ImageError(f"{store.path}: no image for platform {platform} (available: {available})")
        if len(chosen) > 1:
            raise ImageError(f"{store.path}: several images match platform {platform} ({available})")
        candidates = chosen
    plat, desc = candidates[0]
    manifest = store.read_json(_blob_name(store, desc, "manifest"), "manifest")
    cfg_desc = manifest.get("config") if isinstance(manifest, dict) else None
    if not isinstance(cfg_desc, dict):
        raise ImageError(f"{store.path}: manifest {desc.get('digest')} has no config")
    config_name = _blob_name(store, cfg_desc, "config")
    config = _config(store, config_name)
    plat = _platform_of(config) or plat
    if platform and len(candidates) == 1 and plat and not _platform_matches(platform, plat):
        raise ImageError(f"{store.path}: the layout holds a {plat} image, not {platform}")
    diff_ids = _diff_ids(config)
    layers = []
    for i, ld in enumerate(manifest.get("layers") or []):
        if not isinstance(ld, dict):
            raise ImageError(f"{store.path}: manifest layer {i} is not a descriptor")
        name = _blob_name(store, ld, f"layer {i}", must_exist=False)
        if not store.exists(name):
            raise ImageError(f"{store.path}: layer {i} blob {name!r} is missing")
        layers.append(LayerBlob(
            i, name, str(ld.get("digest", "")), diff_ids[i] if i < len(diff_ids) else "",
            str(ld.get("mediaType", "")), store.size(name),
        ))
    fmt = "oci-layout" if isinstance(store, _DirStore) else "oci-archive"
    return SourceInfo(store.path, fmt, plat, config, str(cfg_desc.get("digest", "")), tuple(layers))


def _manifests(store: _Store, index: Any, limits: ImageLimits) -> list[tuple[str, dict]]:
    """(platform, descriptor) of every distinct image manifest reachable from index.json, attestations
    left out. Each nested index is read once however often it is listed (an index may list the same
    child many times at each level: without this, the walk grows as the product of the fan-outs),
    nesting is bounded, and so is the number of descriptors examined over all indexes."""
    found: dict[str, tuple[str, dict]] = {}  # manifest digest -> (platform, descriptor), first listing wins
    seen_indexes: set[str] = set()
    examined = 0
    todo: list[tuple[Any, str, int]] = [(index, "index.json", 0)]
    while todo:
        doc, where, depth = todo.pop(0)  # breadth first: listing order within a level is kept
        if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
            raise ImageError(f"{store.path}: {where} is not an image index")
        examined += len(doc["manifests"])
        if examined > limits.max_index_descriptors:
            raise ImageError(
                f"{store.path}: {where}: the indexes list more than {limits.max_index_descriptors} descriptors"
            )
        for desc in doc["manifests"]:
            if not isinstance(desc, dict):
                continue
            annotations = desc.get("annotations") or {}
            if isinstance(annotations, dict) and annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            plat = _platform_of(desc.get("platform") or {})
            if plat == "unknown/unknown":
                continue
            media_type = desc.get("mediaType", "")
            if media_type in OCI_INDEX_TYPES:
                name = _blob_name(store, desc, "index")
                if name in seen_indexes:
                    continue
                seen_indexes.add(name)
                if depth + 1 > 8:
                    raise ImageError(f"{store.path}: indexes nested too deep (more than 8 levels)")
                todo.append((store.read_json(name, "index"), str(desc.get("digest")), depth + 1))
            elif media_type in OCI_MANIFEST_TYPES or not media_type:
                key = str(desc.get("digest"))
                if key not in found:
                    found[key] = (plat, desc)
    return list(found.values())


def _blob_name(store: _Store, desc: dict, what: str, must_exist: bool = True) -> str:
    digest = desc.get("digest")
    if not isinstance(digest, str) or ":" not in digest:
        raise ImageError(f"{store.path}: {what} descriptor has no digest")
    algo, _, hexpart = digest.partition(":")
    if not algo.isalnum() or not hexpart.isalnum():
        raise ImageError(f"{store.path}: {what} descriptor has a malformed digest {digest!r}")
    name = f"blobs/{algo}/{hexpart}"
    if must_exist and not store.exists(name):
        raise ImageError(f"{store.path}: {what} blob {digest} is missing")
    return name


def _config(store: _Store, name: str) -> dict[str, Any]:
    config = store.read_json(name, "image config")
    if not isinstance(config, dict):
        raise ImageError(f"{store.path}: image config {name!r} is not a JSON object")
    return config


def _diff_ids(config: dict[str, Any]) -> list[str]:
    rootfs = config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(x) for x in ids] if isinstance(ids, list) else []


def _platform_of(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    os_, arch = obj.get("os"), obj.get("architecture")
    if not os_ or not arch:
        return ""
    variant = obj.get("variant")
    return f"{os_}/{arch}" + (f"/{variant}" if variant else "")


def _platform_matches(wanted: str, have: str) -> bool:
    """"linux/arm64" matches "linux/arm64/v8"; "linux/arm/v7" needs the variant."""
    w = wanted.strip().lower().split("/")
    h = have.lower().split("/")
    if len(w) < 2:
        return False
    return w[:2] == h[:2] and (len(w) < 3 or (len(h) >= 3 and w[2] == h[2]))
