"""Pascal VOC XML: one `.xml` per image, objects named by class string, integer 1-based corners.

Layouts: the original `JPEGImages/` + `Annotations/` (at the root or in split folders; splits from
`ImageSets/Main/<split>.txt` when present, train/val/test before trainval), and Roboflow's `.xml` beside
each image in `<split>/` or the root. An image without an XML has no objects (written back with one).

Coordinates: VOC's xmin..xmax are 1-based inclusive pixel indices, so the corner model's x0 = xmin - 1 and
x1 = xmax (a box over a whole W-wide image is xmin=1, xmax=W). Writing rounds back to integers (xmin =
round(x0) + 1, xmax = round(x1), at least one pixel wide), so integer sources round-trip exactly; fractional
source coordinates are rounded. Up to 1 px outside the image is clipped (the common 0-based xmin=0 slip),
farther is box_outside_image. The image's <size> is checked against the decoded image unless it is 0.

Names: `labelmap.txt` or `classes.txt` at the root when present (then an undeclared name is unknown_class),
else the sorted set of names found.

Kept: every simple child of <object> other than name and bndbox (pose, truncated, difficult, occluded, ...)
as text in `attributes`, and nested children (part, actions, ...) as XML text under attributes["xml"],
written back verbatim (so a part's own box is NOT transformed); the image-level elements (folder, source,
segmented, depth, ...) are copied from the source XML. <filename> and the last part of <path> become the
output image's name. Not preserved: the source's formatting; XML is written canonically (tab indent, no
XML declaration, elements in source order with <name> first and <bndbox> after the simple children).
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from augcli.errors import DatasetError
from augcli.formats.common import (
    check_box,
    clip_coords,
    images_in,
    is_split_name,
    join,
    names_from_lines,
    read_text,
    stem_path,
    swap_dir,
    visible_dirs,
    visible_files,
    walk_files,
)
from augcli.formats.model import AnnotatedDataset, AnnotatedSample, AnnotationError
from augcli.targets import Instance, Targets

TOLERANCE = 1.0  # pixels
SPLIT_FILES = ("train", "val", "test", "trainval")
NAME_FILES = ("labelmap.txt", "classes.txt")


def scan(root: Path) -> AnnotatedDataset:
    dataset = AnnotatedDataset(root, "voc")
    pairs: dict[str, str] = {}  # image folder -> XML folder
    for base in [""] + [d for d in visible_dirs(root) if is_split_name(d)]:
        dirs = visible_dirs(root / base)
        files = visible_files(root / base)
        if "JPEGImages" in dirs and "Annotations" in dirs:
            pairs[join(base, "JPEGImages")] = join(base, "Annotations")
        elif any(n.lower().endswith(".xml") for n in files):
            pairs[base] = base
    if not pairs:
        raise DatasetError(f"{root}: no JPEGImages/ + Annotations/ and no .xml beside images (Pascal VOC)")
    declared = next(((rel, names_from_lines(root, rel)) for rel in NAME_FILES if (root / rel).is_file()), None)
    dataset.extra = {"pairs": pairs, "files": {declared[0]: read_text(root, declared[0])} if declared else {}}
    split_of = _image_sets(root, dataset)

    found: set[str] = set()
    used: set[str] = set()
    for image_dir, xml_dir in pairs.items():
        for image in images_in(root, image_dir, dataset, recursive=image_dir != xml_dir):
            xml = swap_dir(image, pairs, ".xml")
            has_xml = (root / xml).is_file()
            if has_xml:
                used.add(xml)
                try:
                    _, objects = _parse(root, xml)
                    for number, obj in enumerate(objects, start=1):
                        if declared and obj["name"] not in declared[1]:
                            raise AnnotationError(
                                xml, "unknown_class", f"object {number}: {obj['name']!r} is not in {declared[0]}"
                            )
                        found.add(obj["name"])
                except AnnotationError as exc:
                    dataset.problems.append((image, exc.reason, str(exc)))
                    continue
            split = split_of.get(stem_path(os.path.basename(image))) if split_of else None
            if image_dir == xml_dir:
                split = image_dir or None
            elif not split_of and "/" in image_dir:
                split = image_dir.split("/")[0]
            dataset.samples.append(AnnotatedSample(image, split, xml if has_xml else ""))
        for rel in walk_files(root, xml_dir, recursive=image_dir != xml_dir):
            if rel.lower().endswith(".xml") and rel not in used:
                dataset.problems.append(
                    (rel, "label_without_image", f"{rel}: label_without_image (no image of that name)")
                )
    dataset.names = list(declared[1]) if declared else sorted(found)
    dataset.samples.sort(key=lambda s: s.relpath)
    return dataset


def read(dataset: AnnotatedDataset, sample: AnnotatedSample, width: int, height: int) -> Targets:
    if not sample.annotation:
        return Targets()
    size, objects = _parse(dataset.root, sample.annotation)
    rel = sample.annotation
    if size and size != (width, height):
        raise AnnotationError(
            rel, "size_mismatch", f"<size> is {size[0]}x{size[1]}, the image decodes as {width}x{height}"
        )
    lookup = {name: index for index, name in enumerate(dataset.names)}
    instances = []
    for number, obj in enumerate(objects, start=1):
        if obj["name"] not in lookup:
            raise AnnotationError(rel, "unknown_class", f"object {number}: {obj['name']!r} is not among the names")
        xmin, ymin, xmax, ymax = obj["bndbox"]
        box = clip_coords([xmin - 1, ymin - 1, xmax, ymax], width, height, TOLERANCE, rel, obj["line"])
        instances.append(Instance(lookup[obj["name"]], check_box(box, rel, obj["line"]), attributes=obj["attributes"]))
    return Targets(instances)


def annotation_files(dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str) -> list[str]:
    return [swap_dir(out_image_rel, dataset.extra["pairs"], ".xml")]


def write(
    dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str, targets: Targets, width: int, height: int
) -> dict[str, bytes]:
    name = os.path.basename(out_image_rel)
    source = _tree(dataset.root, sample.annotation) if sample.annotation else None
    if source is None:
        source = ET.fromstring(
            "<annotation><filename/><size><depth>3</depth></size><segmented>0</segmented></annotation>"
        )
    out = ET.Element(source.tag, source.attrib)
    objects = [_object(dataset.names[inst.category], inst, width, height) for inst in targets.instances]
    for child in source:
        if child.tag == "object":
            out.extend(objects)
            objects = []
        elif child.tag == "filename":
            out.append(_leaf("filename", name))
        elif child.tag == "path":
            directory = (child.text or "").rsplit("/", 1)[0] if "/" in (child.text or "") else ""
            out.append(_leaf("path", f"{directory}/{name}" if directory else name))
        elif child.tag == "size":
            size = ET.Element("size", child.attrib)
            size.extend([_leaf("width", str(width)), _leaf("height", str(height))])
            size.extend(c for c in child if c.tag not in ("width", "height"))
            out.append(size)
        else:
            out.append(child)
    out.extend(objects)  # the source had no <object> to mark where they go
    return {annotation_files(dataset, sample, out_image_rel)[0]: ("\n".join(_lines(out, 0)) + "\n").encode()}


def dataset_files(dataset: AnnotatedDataset, entries: list[tuple[Any, ...]]) -> dict[str, bytes]:
    """The names file as read and, when the source had ImageSets/Main lists, one list per output split."""
    out = {rel: text.encode() for rel, text in dataset.extra["files"].items()}
    lists = dataset.extra.get("image_sets")
    if lists is not None:
        by_split: dict[str, list[str]] = {}
        for entry in entries:
            if entry[0] is not None:
                by_split.setdefault(entry[0], []).append(stem_path(os.path.basename(entry[1])))
        for split, stems in by_split.items():
            out[f"{lists}/{split}.txt"] = "".join(s + "\n" for s in stems).encode()
    return out


def _image_sets(root: Path, dataset: AnnotatedDataset) -> dict[str, str]:
    """{image stem: split} from ImageSets/Main/<split>.txt (the per-class <class>_<split>.txt are ignored)."""
    folder = "ImageSets/Main"
    present = [s for s in SPLIT_FILES if (root / folder / f"{s}.txt").is_file()]
    if not present:
        return {}
    dataset.extra["image_sets"] = folder
    if "trainval" in present and ("train" in present or "val" in present):
        present.remove("trainval")  # trainval = train + val
    split_of: dict[str, str] = {}
    for split in present:
        for line in read_text(root, f"{folder}/{split}.txt").splitlines():
            if line.strip():
                split_of.setdefault(line.split()[0], split)
    dataset.ignored.extend(
        rel for rel in walk_files(root, "ImageSets") if rel not in {f"{folder}/{s}.txt" for s in present}
    )
    return split_of


def _tree(root: Path, rel: str) -> ET.Element:
    try:
        return ET.fromstring(read_text(root, rel))
    except ET.ParseError as exc:
        raise AnnotationError(rel, "malformed_label", f"invalid XML: {exc}", exc.position[0]) from None


def _parse(root: Path, rel: str) -> tuple[tuple[int, int] | None, list[dict[str, Any]]]:
    """((width, height) or None when absent or 0, [{name, bndbox, attributes, line}])."""
    tree = _tree(root, rel)
    size = None
    try:
        if tree.find("size") is not None:
            width, height = (int(float(tree.findtext(f"size/{k}", "0"))) for k in ("width", "height"))
            size = (width, height) if width > 0 and height > 0 else None
    except ValueError:
        raise AnnotationError(rel, "malformed_label", "<size> width/height are not numbers") from None
    objects = []
    for number, element in enumerate(tree.iter("object"), start=1):
        name = (element.findtext("name") or "").strip()
        box = element.find("bndbox")
        if not name or box is None:
            raise AnnotationError(rel, "malformed_label", f"object {number} has no <name> or no <bndbox>")
        try:
            corners = [float(box.findtext(k, "")) for k in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError:
            raise AnnotationError(rel, "malformed_label", f"object {number}: bndbox values are not numbers") from None
        if not all(math.isfinite(v) for v in corners):
            raise AnnotationError(rel, "malformed_label", f"object {number}: bndbox has NaN or infinite values")
        if size:
            clip_coords([corners[0] - 1, corners[1] - 1, corners[2], corners[3]], *size, TOLERANCE, rel, None)
        check_box([corners[0] - 1, corners[1] - 1, corners[2], corners[3]], rel, None)
        attributes: dict[str, Any] = {}
        for child in element:
            if child.tag in ("name", "bndbox"):
                continue
            if len(child):
                attributes.setdefault("xml", []).append("\n".join(_lines(child, 0)))
            else:
                attributes[child.tag] = child.text or ""
        objects.append({"name": name, "bndbox": corners, "attributes": attributes, "line": None})
    return size, objects


def _object(name: str, inst: Instance, width: int, height: int) -> ET.Element:
    x0, y0, x1, y1 = inst.box
    xmin = min(max(round(x0) + 1, 1), width)
    ymin = min(max(round(y0) + 1, 1), height)
    xmax = min(max(round(x1), xmin), width)
    ymax = min(max(round(y1), ymin), height)
    element = ET.Element("object")
    element.append(_leaf("name", name))
    nested = []
    for key, value in inst.attributes.items():
        if key == "xml":
            nested = [ET.fromstring(text) for text in value]
        else:
            element.append(_leaf(key, str(value)))
    box = ET.SubElement(element, "bndbox")
    box.extend(
        _leaf(k, str(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), (xmin, ymin, xmax, ymax), strict=True)
    )
    element.extend(nested)
    return element


def _leaf(tag: str, text: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    return element


def _lines(element: ET.Element, depth: int) -> list[str]:
    """Canonical text: one element per line, tab indent, leaf text escaped; tails and comments dropped."""
    pad = "\t" * depth
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in element.attrib.items())
    if not len(element):
        return [f"{pad}<{element.tag}{attrs}>{escape((element.text or '').strip())}</{element.tag}>"]
    lines = [f"{pad}<{element.tag}{attrs}>"]
    for child in element:
        lines.extend(_lines(child, depth + 1))
    return lines + [f"{pad}</{element.tag}>"]
