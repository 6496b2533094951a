"""Tell which layout a dataset folder uses, from its folder and file names alone (no file is parsed).

Each annotation layout leaves a fingerprint: YOLO `images/` + `labels/` (or `data.yaml`), semantic masks
`images/` + `masks/`, COCO `_annotations.coco.json` or `annotations/instances_*.json`, VOC `JPEGImages/` +
`Annotations/` or `.xml` files beside the images. Fingerprints are looked for at the root and in split
folders (train/, valid/, ...). A tree that shows HALF a fingerprint (images/ without labels/, Annotations/
without JPEGImages/, ...) is an error, never a class-folder dataset whose classes happen to be called
"images" and "labels": reading it as classes would silently train on the wrong thing. The same goes for a
tree showing two fingerprints. Anything else is a plain class-folder tree ("classes").
"""

from __future__ import annotations

from pathlib import Path

from augcli.errors import DatasetError
from augcli.formats.common import check_root, is_image_name, is_split_name, join, visible_dirs, visible_files

OVERRIDE = "pass --layout to choose one (--layout classes if these really are class folders)"


def detect(root: str | Path) -> str:
    root = check_root(root)
    evidence: dict[str, str] = {}  # layout -> the first file or folder that shows it
    halves: list[str] = []
    top = visible_dirs(root)
    bases = [""] + [d for d in top if is_split_name(d)]

    for base in [""] + top:
        if (root / base / "_annotations.coco.json").is_file():
            evidence.setdefault("coco", join(base, "_annotations.coco.json"))
    annotation_jsons = [n for n in visible_files(root / "annotations") if n.endswith(".json")]
    instances = [n for n in annotation_jsons if n.startswith("instances_")]
    if instances:
        evidence.setdefault("coco", f"annotations/{instances[0]}")
    elif annotation_jsons:
        halves.append(f"annotations/ holds {annotation_jsons[0]} but no instances_<split>.json (COCO)")
    if any((root / n).is_file() for n in ("data.yaml", "data.yml")):
        evidence.setdefault("yolo", "data.yaml" if (root / "data.yaml").is_file() else "data.yml")

    for base in bases:
        dirs = set(visible_dirs(root / base))
        if "images" in dirs and "labels" in dirs:
            evidence.setdefault("yolo", join(base, "labels/"))
        if "images" in dirs and "masks" in dirs:
            evidence.setdefault("masks", join(base, "masks/"))
        if "images" in dirs and not dirs & {"labels", "masks"} and "coco" not in evidence:
            halves.append(f"{join(base, 'images/')} has no labels/ (YOLO) or masks/ (semantic masks) beside it")
        for lone, partner in (
            ("labels", "images"),
            ("masks", "images"),
            ("JPEGImages", "Annotations"),
            ("Annotations", "JPEGImages"),
        ):
            if lone in dirs and partner not in dirs:
                halves.append(f"{join(base, lone + '/')} has no {partner}/ beside it")
        if "JPEGImages" in dirs and "Annotations" in dirs:
            evidence.setdefault("voc", join(base, "Annotations/"))
        files = visible_files(root / base)
        xmls = [n for n in files if n.lower().endswith(".xml")]
        if xmls and any(is_image_name(n) for n in files):
            evidence.setdefault("voc", join(base, xmls[0]))

    if evidence.get("yolo", "").startswith("data.y") and not any(
        "labels" in visible_dirs(root / base) for base in bases
    ):
        halves.append(f"{evidence['yolo']} is a YOLO dataset file but there is no labels/ folder")
    if len(evidence) > 1:
        shown = "; ".join(f"{layout} ({where})" for layout, where in sorted(evidence.items()))
        raise DatasetError(f"{root}: looks like more than one annotation layout: {shown}; {OVERRIDE}")
    if halves:
        raise DatasetError(f"{root}: incomplete annotation layout: {halves[0]}; {OVERRIDE}")
    return next(iter(evidence), "classes")
