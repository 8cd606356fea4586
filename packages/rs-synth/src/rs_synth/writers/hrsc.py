"""HRSC2016 ship detection: ``FullDataSet/AllImages/<id>.bmp``, ``FullDataSet/Annotations/<id>.xml``
(``<HRSC_Image>`` with image fields and ``HRSC_Objects/HRSC_Object``: ``Class_ID``, ``box_xmin..ymax``,
rotated box ``mbox_cx mbox_cy mbox_w mbox_h mbox_ang`` (w = ship length, ang in radians of the length axis in
image coordinates, in [-pi/2, pi/2)), bow point ``header_x/y``), and ``ImageSets/{trainval,test}.txt``.
Layout and element order follow the real annotation in mmrotate's test data.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..themes import sample_scene
from ..truth import ImageTruth, Truth
from ._base import atomic_output, finish, image_rng, object_truths, save_image, split_of

# HRSC2016 class ids (level 1 "ship" and a few level-2/3 categories).
CLASS_IDS = {
    "100000001": "ship",
    "100000002": "aircraft carrier",
    "100000003": "warcraft",
    "100000004": "merchant ship",
}

_EMPTY = "\n  "


def _img_xml(img_id: str, w: int, h: int, objects_xml: str) -> str:
    f = [
        ("Img_ID", img_id),
        ("Place_ID", "100000001"),
        ("Source_ID", "100000001"),
        ("Img_NO", img_id),
        ("Img_FileName", img_id),
        ("Img_FileFmt", "bmp"),
        ("Img_Date", "1900-01-01"),
        ("Img_CusType", "sealand"),
        ("Img_Des", _EMPTY),
        ("Img_Location", "69.040297,33.070036"),
        ("Img_SizeWidth", w),
        ("Img_SizeHeight", h),
        ("Img_SizeDepth", 3),
        ("Img_Resolution", "1.07"),
        ("Img_Resolution_Layer", 18),
        ("Img_Scale", 100),
        ("Img_SclPxlNum", _EMPTY),
        ("segmented", 0),
        ("Img_Havemask", 0),
        ("Img_MaskFileName", _EMPTY),
        ("Img_MaskFileFmt", _EMPTY),
        ("Img_MaskType", _EMPTY),
        ("Img_SegFileName", _EMPTY),
        ("Img_SegFileFmt", _EMPTY),
        ("Img_Rotation", "000d"),
        ("Annotated", 1),
    ]
    body = "".join(f"  <{k}>{v}</{k}>\n" for k, v in f)
    return f"<HRSC_Image>\n{body}  <HRSC_Objects>\n{objects_xml}  </HRSC_Objects>\n</HRSC_Image>\n"


def rbox(poly) -> tuple[float, float, float, float, float]:
    """(cx, cy, w, h, ang) of an oriented box whose first edge runs along the object's length."""
    (x0, y0), (x1, y1), _, (x3, y3) = poly
    cx = sum(p[0] for p in poly) / 4
    cy = sum(p[1] for p in poly) / 4
    w, h = math.hypot(x1 - x0, y1 - y0), math.hypot(x3 - x0, y3 - y0)
    ang = math.atan2(y1 - y0, x1 - x0)
    ang = (ang + math.pi / 2) % math.pi - math.pi / 2
    return cx, cy, w, h, ang


def write(out_dir: str | Path, n: int, seed: int = 0, size: int = 1024, overwrite: bool = False) -> Truth:
    truth = Truth(format="hrsc2016", seed=seed, size=size, classes=list(CLASS_IDS))
    sets: dict[str, list[str]] = {"trainval": [], "test": []}
    obj_no = 100000001
    with atomic_output(out_dir, overwrite) as tmp:
        for i in range(n):
            rng = image_rng(seed, "hrsc2016", i)
            scene = sample_scene(rng, size, {"ship"})
            img_id = str(100000001 + i)
            split = split_of(seed, "hrsc2016", i, (("trainval", 0.7), ("test", 0.3)))
            ids = list(CLASS_IDS)
            objs = object_truths(scene, {"ship": "ship"})
            xml_objs = []
            for o, so in zip(objs, scene.objects):
                cid = ids[int(rng.integers(len(ids)))]
                o.label = cid
                o.meta["class_name"] = CLASS_IDS[cid]
                cx, cy, w, h, ang = rbox(o.poly)
                a = math.radians(so.angle)
                hx, hy = (
                    so.center[0] + 0.5 * so.size * math.cos(a),
                    so.center[1] + 0.5 * so.size * math.sin(a),
                )
                o.meta.update(mbox=[cx, cy, w, h, ang], header=[round(hx), round(hy)])
                x0, y0, x1, y1 = (round(v) for v in o.box)
                fields = [
                    ("Object_ID", obj_no),
                    ("Class_ID", cid),
                    ("Object_NO", obj_no),
                    ("truncated", 0),
                    ("difficult", 0),
                    ("box_xmin", x0),
                    ("box_ymin", y0),
                    ("box_xmax", x1),
                    ("box_ymax", y1),
                    ("mbox_cx", f"{cx:.4f}"),
                    ("mbox_cy", f"{cy:.4f}"),
                    ("mbox_w", f"{w:.4f}"),
                    ("mbox_h", f"{h:.4f}"),
                    ("mbox_ang", f"{ang:.6f}"),
                    ("segmented", 0),
                    ("seg_color", "\n      "),
                    ("header_x", round(hx)),
                    ("header_y", round(hy)),
                ]
                obj_no += 1
                xml_objs.append(
                    "    <HRSC_Object>\n"
                    + "".join(f"      <{k}>{v}</{k}>\n" for k, v in fields)
                    + "    </HRSC_Object>\n"
                )
            save_image(scene.image, tmp / "FullDataSet" / "AllImages" / f"{img_id}.bmp")
            ann = tmp / "FullDataSet" / "Annotations" / f"{img_id}.xml"
            ann.parent.mkdir(parents=True, exist_ok=True)
            ann.write_text(_img_xml(img_id, scene.width, scene.height, "".join(xml_objs)), encoding="utf-8")
            sets[split].append(img_id)
            truth.images.append(
                ImageTruth(
                    index=i,
                    image=f"FullDataSet/AllImages/{img_id}.bmp",
                    width=scene.width,
                    height=scene.height,
                    split=split,
                    labels=[f"FullDataSet/Annotations/{img_id}.xml"],
                    ground=scene.ground,
                    water=scene.water,
                    theme=scene.theme,
                    objects=objs,
                )
            )
        (tmp / "ImageSets").mkdir()
        for split, names in sets.items():
            (tmp / "ImageSets" / f"{split}.txt").write_text(
                "".join(x + "\n" for x in names), encoding="ascii"
            )
        return finish(truth, tmp)
