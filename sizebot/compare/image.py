"""The report's container image: build the configured Dockerfile at base and head, compare them.

Each side is built by the Docker engine, saved with ``docker save`` into ``work_dir``, its tag
removed at once (the engine's storage stays small) and the archive read by analyze_image, then
deleted. The head image is judged by dive's CI rules: ``[image.rules]`` of sizebot.toml, else a
``.dive-ci`` file at the root of ``rules_dir`` (the head checkout's, or the base's when the base's
``[image]`` is judged), else dive's defaults (as ``dive --ci`` would).

A failed build never raises: its one-line error goes in the section's ``error`` and there is no
measurement for the image budgets. A base without the Dockerfile (the PR adds it) is not an
error: the head is measured alone and ``error`` says why the base is missing.

``measure_base_image`` measures a commit's image as a report measures its base, for the baseline
(documents/baseline.py); a report given that measurement builds the head's image only.
"""

from __future__ import annotations

import math
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from sizebot.budgets import ImageMeasurement
from sizebot.compare.baseline import image_spec
from sizebot.config import ImageConfig
from sizebot.documents.baseline import BaselineImage
from sizebot.documents.image import ImageReport
from sizebot.documents.report import ImageRule, ReportImage
from sizebot.errors import ConfigError, SizebotError
from sizebot.image.analysis import analyze_image
from sizebot.image.ci_rules import DiveRules, RuleResult, default_rules, evaluate_rules, load_dive_ci
from sizebot.image.diff import diff_images
from sizebot.image.docker import build_image, docker_available, remove_image, save_image

DIVE_CI = ".dive-ci"  # the file `dive --ci` reads from the working directory by default


@dataclass(frozen=True)
class ImageSection:
    doc: ReportImage  # the report's image section: base, head, diff, rules, error
    measurement: ImageMeasurement | None  # for the image budgets; None when a build failed


class _SideFailed(Exception):
    """One side could not be measured; the message is the report's one-line error."""


def measure_images(base_dir: Path | None, head_dir: Path, image: ImageConfig, work_dir: Path, *,
                   docker_host: str | None = None, top: int = 20,
                   measured_base: BaselineImage | None = None, rules_dir: Path | None = None) -> ImageSection:
    """Build, analyse and diff the image at base (``None``: not measured) and head; ``measured_base``:
    the base's image as a baseline measured it (``measure_base_image``), used instead of building it.

    ``rules_dir``: where the ``.dive-ci`` is read (default: the head's checkout).

    Raises ConfigError only for a bad ``.dive-ci`` (read before anything is built)."""
    rules = image_rules(image, rules_dir if rules_dir is not None else head_dir)
    error: str | None = None
    head: ImageReport | None = None
    base: ImageReport | None = None
    note: str | None = None
    head_problem: str | None = None  # what the head did that leaves its image unmeasured (not the engine's)
    try:
        try:
            _inputs(head_dir, image, "head")  # a head without its Dockerfile is an error, before the engine
        except _SideFailed as exc:
            head_problem = str(exc)
            raise
        if measured_base is not None:
            base_dir = None
            if measured_base.status == "missing":
                measured_base, note = None, _missing_note(image)
        elif base_dir is not None:
            try:
                _inputs(base_dir, image, "base")
            except _SideFailed:
                base_dir, note = None, _missing_note(image)
        if not docker_available(docker_host):
            where = docker_host or "the default socket"
            raise _SideFailed(f"image not measured: no Docker engine answers at {where} "
                              "(start dockerd or set DOCKER_HOST)")
        scratch = Path(work_dir) / f"image-{uuid.uuid4().hex[:12]}"
        try:
            try:
                head = _measure(head_dir, image, scratch, "head", docker_host, top)
            except _SideFailed as exc:
                head_problem = str(exc)
                raise
            if measured_base is not None:
                if measured_base.report is None:
                    raise _SideFailed(measured_base.error or "base image: the build failed")
                base = measured_base.report
            elif base_dir is not None:
                base = _measure(base_dir, image, scratch, "base", docker_host, top)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except _SideFailed as exc:
        error = str(exc)
    doc = ReportImage(base=base, head=head,
                      diff=diff_images(base, head, top=top) if base is not None and head is not None else None,
                      rules=tuple(image_rule(r) for r in evaluate_rules(head, rules)) if head is not None else (),
                      error=error if error is not None else note)
    if error is not None:  # a head that lost or broke its image is judged so (its budgets cannot pass)
        return ImageSection(doc=doc, measurement=ImageMeasurement(None, None, None, None, head_problem=head_problem)
                            if head_problem is not None else None)
    return ImageSection(doc=doc, measurement=ImageMeasurement.from_reports(base, head))


def measure_base_image(checkout: Path, image: ImageConfig, work_dir: Path, *, docker_host: str | None = None,
                       top: int = 20) -> BaselineImage | None:
    """The image of the commit at ``checkout``, built and analysed as a report's base (the same source
    label, the same one-line errors); None when no Docker engine answers (a report builds it then)."""
    spec = image_spec(image, top)
    try:
        _inputs(checkout, image, "base")
    except _SideFailed as exc:
        return BaselineImage(spec, "missing", str(exc), None)
    if not docker_available(docker_host):
        return None
    scratch = Path(work_dir) / f"image-{uuid.uuid4().hex[:12]}"
    try:
        return BaselineImage(spec, "ok", None, _measure(checkout, image, scratch, "base", docker_host, top))
    except _SideFailed as exc:
        return BaselineImage(spec, "failed", str(exc), None)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _missing_note(image: ImageConfig) -> str:
    return f"the base commit has no {image.dockerfile}: the image is measured at head only"


def image_rules(image: ImageConfig, head_dir: Path) -> DiveRules:
    """``[image.rules]``, else the head's ``.dive-ci``, else dive's defaults."""
    if image.rules is not None:
        return image.rules
    path = Path(head_dir) / DIVE_CI
    if not path.is_file():
        return default_rules()
    try:
        return load_dive_ci(path)
    except ConfigError as exc:
        # Name the file as the repository has it, not by the temporary checkout's path.
        raise ConfigError(str(exc).replace(str(path), DIVE_CI)) from None


def image_rule(r: RuleResult) -> ImageRule:
    def number(x: float | int | None) -> float | int | None:
        return None if isinstance(x, float) and not math.isfinite(x) else x

    return ImageRule(r.name, r.status, number(r.value), number(r.threshold), r.message)


def _inputs(checkout: Path, image: ImageConfig, side: str) -> tuple[Path, Path]:
    """The build context and Dockerfile inside ``checkout``; _SideFailed when missing or outside it."""
    root = Path(checkout).resolve()
    context = (root / image.context).resolve()
    dockerfile = (root / image.dockerfile).resolve()
    for what, path in (("context", context), ("dockerfile", dockerfile)):
        if not path.is_relative_to(root):
            raise _SideFailed(f"{side} image: [image] {what} {getattr(image, what)!r} is outside the repository")
    if not dockerfile.is_file():
        raise _SideFailed(f"{side} image: no {image.dockerfile} in the {side} commit")
    if not context.is_dir():
        raise _SideFailed(f"{side} image: the build context {image.context!r} is not a directory in the {side} commit")
    return context, dockerfile


def _measure(checkout: Path, image: ImageConfig, scratch: Path, side: str, docker_host: str | None,
             top: int) -> ImageReport:
    context, dockerfile = _inputs(checkout, image, side)
    tag = f"sizebot-measure-{scratch.name}:{side}"
    archive: Path | None = None
    try:
        try:
            build_image(context, dockerfile, tag, target=image.target, build_args=dict(image.build_args),
                        docker_host=docker_host, platform=image.platform)
            archive = save_image(tag, scratch, docker_host=docker_host)
        finally:
            _forget(tag, docker_host)
        report = analyze_image(str(archive), image.platform, top=top)
    except SizebotError as exc:
        # One line, with the checkout's temporary path left out of it.
        text = " ".join(str(exc).replace(f"{Path(checkout).resolve()}/", "").split())
        raise _SideFailed(f"{side} image: {text}") from None
    finally:
        if archive is not None:
            archive.unlink(missing_ok=True)
    label = image.dockerfile + (f" --target {image.target}" if image.target else "")
    return replace(report, source=f"{label} ({side})")


def _forget(tag: str, docker_host: str | None) -> None:
    try:
        remove_image(tag, docker_host)
    except SizebotError:
        pass  # best effort: the measurement stands even when the engine keeps the image
