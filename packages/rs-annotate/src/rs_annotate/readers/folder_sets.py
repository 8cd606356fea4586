"""The folder-per-class scene sets rs-annotate knows by name, with their quirks (:class:`FolderSet`).

Each entry says where the class folders sit below the download's root, how deep they are, and which folder
names need a hand-written phrase ("denseresidential" -> "dense residential"); :mod:`.imagefolder` registers
one reader per entry under the entry's format name and applies the shared rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FolderSet:
    """The quirks of one folder-per-class set."""

    name: str
    title: str
    url: str
    license: str
    layout: str
    image_dirs: tuple[str, ...] = ()  # folders below the root tried in order as the image root
    class_depth: int = 1
    names: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


_RESEARCH = "free for research use (no licence file in the release); check the authors' terms"
_RSI_CB_NAMES = {"sandbeach": "sand beach", "parkinglot": "parking lot", "storage_room": "storage room"}
_RSSCN7_NAMES = {
    "aGrass": "grass",
    "bField": "field",
    "cIndustry": "industry",
    "dRiverLake": "river or lake",
    "eForest": "forest",
    "fResident": "residential",
    "gParking": "parking",
}

FOLDER_SETS: tuple[FolderSet, ...] = (
    FolderSet(
        name="ucmerced",
        title="UC Merced Land Use (21 classes, 100 images each, 256x256 TIFF)",
        url="http://weegee.vision.ucmerced.edu/datasets/landuse.html",
        license="public-domain USGS imagery; the authors ask for a citation (Yang & Newsam 2010)",
        layout="UCMerced_LandUse/\n  Images/\n    agricultural/agricultural00.tif ...\n    denseresidential/ ...",
        image_dirs=("Images", "UCMerced_LandUse/Images"),
        names={
            "baseballdiamond": "baseball diamond",
            "denseresidential": "dense residential",
            "golfcourse": "golf course",
            "mediumresidential": "medium residential",
            "mobilehomepark": "mobile home park",
            "parkinglot": "parking lot",
            "sparseresidential": "sparse residential",
            "storagetanks": "storage tanks",
            "tenniscourt": "tennis court",
        },
    ),
    FolderSet(
        name="aid",
        title="AID aerial scene classification (30 classes, 600x600 JPEG)",
        url="https://captain-whu.github.io/AID/",
        license=_RESEARCH,
        layout="AID/\n  Airport/airport_1.jpg ...\n  BareLand/ ...\n  DenseResidential/ ...",
        image_dirs=("AID",),
    ),
    FolderSet(
        name="resisc45",
        title="NWPU-RESISC45 (45 classes, 700 images each, 256x256 JPEG)",
        url="https://gcheng-nwpu.github.io/#Datasets",
        license=_RESEARCH,
        layout="NWPU-RESISC45/\n  airplane/airplane_001.jpg ...\n  baseball_diamond/ ...",
        image_dirs=("NWPU-RESISC45",),
        names={"snowberg": "snowberg", "sea_ice": "sea ice"},
    ),
    FolderSet(
        name="eurosat-rgb",
        title="EuroSAT RGB (10 Sentinel-2 land-cover classes, 64x64 JPEG)",
        url="https://github.com/phelber/EuroSAT",
        license="MIT (dataset repository); Copernicus Sentinel data",
        layout="EuroSAT_RGB/ (or 2750/)\n  AnnualCrop/AnnualCrop_1.jpg ...\n  SeaLake/ ...",
        image_dirs=("2750", "EuroSAT_RGB", "EuroSAT"),
        names={"SeaLake": "sea or lake"},
    ),
    FolderSet(
        name="patternnet",
        title="PatternNet (38 classes, 800 images each, 256x256 JPEG)",
        url="https://sites.google.com/view/zhouwx/dataset",
        license=_RESEARCH,
        layout="PatternNet/\n  images/\n    airplane/airplane001.jpg ...\n    oil_gas_field/ ...",
        image_dirs=("images", "PatternNet/images"),
        names={"oil_gas_field": "oil and gas field"},
    ),
    FolderSet(
        name="optimal-31",
        title="OPTIMAL-31 (31 classes, 60 images each, 256x256 JPEG)",
        url="(no official page) Wang et al., IEEE TGRS 57(2), 2019, the ARCNet paper",
        license=_RESEARCH,
        layout="OPTIMAL-31/\n  Images/\n    airplane/airplane(1).jpg ...\n    baseball_diamond/ ...",
        image_dirs=("Images", "OPTIMAL-31/Images"),
    ),
    FolderSet(
        name="rsc11",
        title="RSC11 (11 classes, 1,232 Google Earth images, 512x512 TIFF)",
        url="https://doi.org/10.1117/1.JRS.10.035004 (Zhao et al. 2016)",
        license=_RESEARCH,
        layout="RSC11/\n  dense forest/ ...\n  high buildings/ ...\n  storage tanks/ ...",
        names={
            "denseforest": "dense forest",
            "sparseforest": "sparse forest",
            "highbuildings": "high buildings",
            "lowbuildings": "low buildings",
            "residentialarea": "residential area",
            "storagetanks": "storage tanks",
        },
        note="Folder names may be spaced, underscored or run together; all map to the same phrases.",
    ),
    FolderSet(
        name="mlrsnet",
        title="MLRSNet, by scene folder (46 categories, 256x256 JPEG)",
        url="https://github.com/cugbrs/MLRSNet",
        license="CC BY 4.0 (Mendeley Data release); see the repository",
        layout="MLRSNet/\n  Images/\n    airplane/airplane_00001.jpg ...\n    harbor&port/ ...",
        image_dirs=("Images", "MLRSNet/Images"),
        names={"harbor&port": "harbor and port"},
        note="Multi-label in origin: the scene folder is the class; the label CSVs are not read.",
    ),
    FolderSet(
        name="rsi-cb128",
        title="RSI-CB128 (45 classes in 6 categories, 128x128 TIFF)",
        url="https://github.com/lehaifeng/RSI-CB",
        license=_RESEARCH,
        layout="RSI-CB128/\n  <category>/\n    <class>/<id>.tif\n  e.g. transportation/airport_runway/ ...",
        image_dirs=("RSI-CB128",),
        class_depth=2,
        names=_RSI_CB_NAMES,
        note="Classes are the second-level folders; the category folders above them are ignored.",
    ),
    FolderSet(
        name="rsi-cb256",
        title="RSI-CB256 (35 classes in 6 categories, 256x256 TIFF)",
        url="https://github.com/lehaifeng/RSI-CB",
        license=_RESEARCH,
        layout="RSI-CB256/\n  <category>/\n    <class>/<id>.tif\n  e.g. water area/sea/ ...",
        image_dirs=("RSI-CB256",),
        class_depth=2,
        names=_RSI_CB_NAMES,
        note="Classes are the second-level folders; the category folders above them are ignored.",
    ),
    FolderSet(
        name="whu-rs19",
        title="WHU-RS19 (19 classes, about 50 images each, 600x600 JPEG)",
        url="https://captain-whu.github.io/BED4RS/",
        license=_RESEARCH,
        layout="WHU-RS19/\n  Airport/airport_01.jpg ...\n  footballField/ ...\n  railwayStation/ ...",
        image_dirs=("WHU-RS19", "RSDataset"),
    ),
    FolderSet(
        name="whu-earth",
        title="WHU-earth scene set (as in the RemoteCLIP evaluation), one folder per class",
        url="(no canonical page known) named in the RemoteCLIP paper's evaluation tables",
        license=_RESEARCH,
        layout="WHU-earth/\n  <class name>/<any name>.jpg|.tif ...",
        note="Layout as distributed: one folder per class, names by the generic rules.",
    ),
    FolderSet(
        name="rsscn7",
        title="RSSCN7 (7 classes, 400 images each, 400x400 JPEG)",
        url="https://github.com/palewithout/RSSCN7 (Zou et al. 2015)",
        license=_RESEARCH,
        layout="RSSCN7/\n  aGrass/a001.jpg ...\n  dRiverLake/ ...\n  gParking/ ...",
        image_dirs=("RSSCN7",),
        names=_RSSCN7_NAMES,
        note="The letter prefixes (a..g) of the folder names are dropped.",
    ),
    FolderSet(
        name="rs2800",
        title="RS2800 (2,800 images in 7 classes: the RSSCN7 collection)",
        url="https://github.com/palewithout/RSSCN7 (Zou et al. 2015)",
        license=_RESEARCH,
        layout="RS2800/\n  aGrass/ (or Grass/) ...\n  dRiverLake/ (or RiverLake/) ...",
        names={**_RSSCN7_NAMES, "RiverLake": "river or lake", "Resident": "residential"},
        note="Folder names with or without RSSCN7's letter prefixes.",
    ),
)
