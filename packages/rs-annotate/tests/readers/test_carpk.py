"""CARPK as the paper counts it: the release's CARPK_devkit and PUCPR+_devkit read together."""

from rs_annotate.readers import get_reader
from rs_synth.writers.drone import write_carpk


def test_the_release_folder_reads_both_devkits(tmp_path):
    truth = write_carpk(tmp_path / "CARPK", n=5, seed=0, size=64, layout="release")  # 4 CARPK, 1 PUCPR+
    reader = get_reader("carpk")(tmp_path / "CARPK")
    samples = [reader.read(item) for item in reader.items()]
    ids = [s.image_id for s in samples]
    assert len(ids) == 5 == len(set(ids))
    assert sum(i.startswith("carpk/pucpr+/") for i in ids) == 1
    assert sum(len(s.boxes) for s in samples) == sum(len(im.objects) for im in truth.images)
    one = get_reader("carpk")(tmp_path / "CARPK" / "CARPK_devkit")  # one devkit: that one alone
    assert ["carpk/" + i[0] for i in one.items()] == [i for i in ids if not i.startswith("carpk/pucpr+/")]
