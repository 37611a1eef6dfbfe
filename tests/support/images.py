"""Small image archives crafted in tests: docker save (legacy and Docker 25+), OCI layouts
(directory or tar, gzip/zstd/plain layers, multi-platform), kaniko tarballs. All in memory
except the final archive; every byte is chosen by the test."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard


@dataclass
class M:
    """One tar member of a layer."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644
    size: int | None = None  # declared size when it must differ from len(data) (dirs, lies)
    pax: dict[str, str] = field(default_factory=dict)


def f(name: str, data: bytes | int, mode: int = 0o644) -> M:
    if isinstance(data, int):
        data = bytes((i * 7 + len(name)) % 251 for i in range(data))
    return M(name, data, mode=mode)


def d(name: str, mode: int = 0o755) -> M:
    return M(name, kind=tarfile.DIRTYPE, mode=mode)


def sym(name: str, target: str) -> M:
    return M(name, kind=tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name: str, target: str) -> M:
    return M(name, kind=tarfile.LNKTYPE, link=target)


def wh(path: str) -> M:
    head, _, base = path.rpartition("/")
    return f((head + "/" if head else "") + ".wh." + base, b"")


def opq(dirpath: str) -> M:
    return f(dirpath.rstrip("/") + "/.wh..wh..opq", b"")


def layer_tar(members: list[M], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for m in members:
            ti = tarfile.TarInfo(m.name)
            ti.type = m.kind
            ti.mode = m.mode
            ti.mtime = 1700000000
            ti.linkname = m.link
            if m.pax:
                ti.pax_headers = dict(m.pax)
            if m.kind in (tarfile.REGTYPE, tarfile.AREGTYPE):
                ti.size = len(m.data)
                tf.addfile(ti, io.BytesIO(m.data))
            else:
                ti.size = m.size or 0  # a header-only entry may still declare a size (dive counts it)
                tf.addfile(ti)
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def blob(n: int, seed: int) -> bytes:
    """n deterministic bytes; different seeds give different contents (and digests)."""
    return bytes((i * 31 + seed) % 251 for i in range(n))


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_for(layer_tars: list[bytes], commands: list[str] | None = None, empty_before: int = 0,
               os_: str = "linux", arch: str = "amd64", variant: str = "") -> bytes:
    history = [{"created_by": f"/bin/sh -c #(nop) ENV X{i}=1", "empty_layer": True} for i in range(empty_before)]
    for i in range(len(layer_tars)):
        cmd = commands[i] if commands else f"/bin/sh -c step {i}"
        history.append({"created_by": cmd})
        history.append({"created_by": "/bin/sh -c #(nop) WORKDIR /", "empty_layer": True})
    cfg = {"architecture": arch, "os": os_, "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layer_tars]},
           "history": history, "config": {}}
    if variant:
        cfg["variant"] = variant
    return json.dumps(cfg).encode()


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    tf.addfile(ti, io.BytesIO(data))


def docker_archive(path: Path, layers: list[list[M]], commands: list[str] | None = None,
                   empty_before: int = 0) -> Path:
    """Legacy ``docker save``: manifest.json, <hex>.json config, <id>/layer.tar."""
    tars = [layer_tar(m) for m in layers]
    cfg = config_for(tars, commands, empty_before)
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [f"{hashlib.sha256(b'%d' % i + t).hexdigest()}/layer.tar" for i, t in enumerate(tars)]
    with tarfile.open(path, "w") as tf:
        for name, t in zip(names, tars, strict=True):
            _add(tf, name.split("/")[0] + "/VERSION", b"1.0")
            _add(tf, name, t)
        _add(tf, cfg_name, cfg)
        _add(tf, "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": ["t:latest"], "Layers": names}]).encode())
    return path


def docker25_archive(path: Path, layers: list[list[M]]) -> Path:
    """Docker 25+ ``docker save``: OCI index.json + blobs/sha256 + manifest.json beside them."""
    tars = [layer_tar(m) for m in layers]
    cfg = config_for(tars)
    blobs = {sha(cfg): cfg}
    for t in tars:
        blobs[sha(t)] = t
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(t), "size": len(t)} for t in tars]}).encode()
    blobs[sha(man)] = man
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man)}]}
    manifest = [{"Config": "blobs/sha256/" + sha(cfg)[7:], "RepoTags": ["t:latest"],
                 "Layers": ["blobs/sha256/" + sha(t)[7:] for t in tars],
                 "LayerSources": {sha(t): {"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": len(t), "digest": sha(t)} for t in tars}}]
    with tarfile.open(path, "w") as tf:
        for dgst, data in blobs.items():
            _add(tf, "blobs/sha256/" + dgst[7:], data)
        _add(tf, "index.json", json.dumps(index).encode())
        _add(tf, "manifest.json", json.dumps(manifest).encode())
        _add(tf, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    return path


LAYER_TYPES = {"none": "application/vnd.oci.image.layer.v1.tar", "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def oci_blobs(images: list[tuple[list[list[M]], str, str]], compression: str = "gzip",
              nested: bool = False, attestation: bool = False) -> tuple[dict[str, bytes], dict]:
    """Blobs and index.json for one or more images, each (layers, "os/arch[/variant]", commands-prefix)."""
    blobs: dict[str, bytes] = {}
    descs = []
    for layers, platform, _ in images:
        tars = [layer_tar(m) for m in layers]
        stored = [compress(t, compression) for t in tars]
        parts = platform.split("/")
        cfg = config_for(tars, os_=parts[0], arch=parts[1], variant=parts[2] if len(parts) > 2 else "")
        blobs[sha(cfg)] = cfg
        for s in stored:
            blobs[sha(s)] = s
        man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
                          "layers": [{"mediaType": LAYER_TYPES[compression], "digest": sha(s), "size": len(s)} for s in stored]}).encode()
        blobs[sha(man)] = man
        plat = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            plat["variant"] = parts[2]
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(man), "size": len(man), "platform": plat})
    if attestation:
        att = b'{"schemaVersion": 2, "layers": []}'
        blobs[sha(att)] = att
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(att), "size": len(att),
                      "platform": {"os": "unknown", "architecture": "unknown"},
                      "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs}
    if nested:
        inner = json.dumps(index).encode()
        blobs[sha(inner)] = inner
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(inner), "size": len(inner)}]}
    return blobs, index


def oci_dir(path: Path, blobs: dict[str, bytes], index: dict) -> Path:
    (path / "blobs" / "sha256").mkdir(parents=True)
    for dgst, data in blobs.items():
        (path / "blobs" / "sha256" / dgst[7:]).write_bytes(data)
    (path / "index.json").write_text(json.dumps(index))
    (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return path


def oci_tar(path: Path, blobs: dict[str, bytes], index: dict) -> Path:
    with tarfile.open(path, "w") as tf:
        for dgst, data in blobs.items():
            _add(tf, "blobs/sha256/" + dgst[7:], data)
        _add(tf, "index.json", json.dumps(index).encode())
        _add(tf, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    return path


def kaniko_tar(path: Path, layers: list[list[M]]) -> Path:
    """go-containerregistry tarball: config "sha256:<hex>", layers "<hex>.tar.gz"."""
    tars = [layer_tar(m) for m in layers]
    gz = [compress(t, "gzip") for t in tars]
    cfg = config_for(tars)
    names = [sha(g)[7:] + ".tar.gz" for g in gz]
    with tarfile.open(path, "w") as tf:
        _add(tf, sha(cfg), cfg)
        for n, g in zip(names, gz, strict=True):
            _add(tf, n, g)
        _add(tf, "manifest.json", json.dumps([{"Config": sha(cfg), "RepoTags": ["t:latest"], "Layers": names}]).encode())
    return path
