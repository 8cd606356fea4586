import cv2
import numpy as np
import pytest

from rs_annotate.readers import BadInput, Box, get_reader
from rs_annotate.readers.sdd import parse_sdd


def test_real_quad_video1_annotations(shared_data):
    path = shared_data / "sdd" / "quad" / "video1" / "annotations.txt"
    lines = path.read_text().splitlines()
    boxes, lost = parse_sdd(path.read_text(), path)
    assert sum(len(v) for v in boxes.values()) + sum(lost.values()) == len(lines) == 7153
    assert sum(lost.values()) == sum(1 for ln in lines if ln.split()[6] == "1") == 949
    assert min(boxes) == 0 and max(boxes | lost) == 508
    # The first row: track 0, frame 500, visible.
    assert ("Pedestrian", 5.0, 795.0, 38.0, 831.0) in boxes[500]
    assert {row[0] for rows in boxes.values() for row in rows} == {"Pedestrian", "Biker"}


def test_real_annotations_without_video(shared_data, tmp_path):
    root = shared_data / "sdd"
    with pytest.raises(BadInput, match="no video for these annotations") as e:
        get_reader("sdd")(root).items()
    assert e.value.path.name == "annotations.txt"
    reader = get_reader("sdd")(root, missing_video="skip")
    assert reader.items() == [] and len(reader.skipped) == 1


@pytest.mark.parametrize(
    "row,match",
    [
        ('0 5 795 38 831 500 0 0 "Pedestrian"', "got 8 field"),
        ("0 5 795 38 831 500 0 0 0 Pedestrian", "quoted label"),
        ('0 5 795 x 831 500 0 0 0 "Pedestrian"', "coordinate 'x' is not a number"),
        ('0 5 795 38 831 5.5 0 0 0 "Pedestrian"', "frame '5.5' is not a non-negative integer"),
    ],
)
def test_malformed_rows(tmp_path, row, match):
    with pytest.raises(BadInput, match=match) as e:
        parse_sdd('1 1 1 2 2 0 0 0 0 "Biker"\n' + row + "\n", tmp_path / "annotations.txt")
    assert e.value.line == 2


def _video(path, n_frames, size=(48, 32)):
    """An MJPG video whose frame k is uniformly grey level 8 * k, so the frame read back is identifiable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, size)
    assert writer.isOpened()
    for k in range(n_frames):
        frame = np.full((size[1], size[0], 3), 8 * k, np.uint8)
        frame[..., 0] = 0  # blue channel 0: checks the BGR -> RGB conversion
        writer.write(frame)
    writer.release()


def _rows(frames, lost_at=()):
    rows = []
    for f in frames:
        rows.append(f'0 {f} 1 {f + 10} 11 {f} {int(f in lost_at)} 0 1 "Pedestrian"')
        rows.append(f'1 2 2 9 9 {f} 0 1 0 "Biker"')
    return "\n".join(rows) + "\n"


def test_frames_sampled_at_stride_from_a_written_video(tmp_path):
    _video(tmp_path / "videos" / "quad" / "video0" / "video.avi", 25)
    ann = tmp_path / "annotations" / "quad" / "video0" / "annotations.txt"
    ann.parent.mkdir(parents=True)
    ann.write_text(_rows(range(2, 25), lost_at={12}))
    reader = get_reader("sdd")(tmp_path, stride=5)
    items = reader.items()
    assert [it[3] for it in items] == [2, 7, 12, 17, 22]
    samples = [reader.read(it) for it in items]
    for s, frame in zip(samples, [2, 7, 12, 17, 22]):
        assert s.image.shape == (32, 48, 3) and s.image.dtype == np.uint8 and s.size == (48, 32)
        assert abs(int(s.image[..., 0].mean()) - 8 * frame) <= 3  # red = the frame's grey level
        assert s.image[..., 2].mean() < 4  # blue stays 0
        assert s.image_id == f"sdd/quad/video0/{frame:06d}" and s.image_path is None
    assert samples[0].boxes == [Box("pedestrian", 2, 1, 12, 11), Box("biker", 2, 2, 9, 9)]
    assert samples[2].boxes == [Box("biker", 2, 2, 9, 9)] and samples[2].meta["dropped"] == {"lost": 1}
    # Going back reopens the video: the same frame again, exactly.
    assert np.array_equal(reader.read(items[1]).image, samples[1].image)


def test_missing_frames_are_bad_input(tmp_path):
    video_dir = tmp_path / "little" / "video3"
    _video(video_dir / "video.mov", 10)
    (video_dir / "annotations.txt").write_text(_rows(range(0, 40, 10)))
    reader = get_reader("sdd")(tmp_path, stride=10)
    items = reader.items()
    assert [it[3] for it in items] == [0, 10, 20, 30]
    assert reader.read(items[0]).boxes
    with pytest.raises(BadInput, match="frame 10 is missing: the video ends") as e:
        reader.read(items[1])
    assert e.value.path.name == "video.mov" and "annotations.txt" in str(e.value)
    assert reader.read(items[0]).image.shape == (32, 48, 3)  # the cursor recovers


def test_rs_synth_sdd_video(tmp_path):
    from rs_synth.registry import FORMATS

    truth = FORMATS["sdd"].write(tmp_path / "sdd", 1, seed=0, size=160, frames=40)
    reader = get_reader("sdd")(tmp_path / "sdd", stride=10)
    samples = [reader.read(it) for it in reader.items()]
    im = truth.images[0]
    assert samples and all(s.image.shape == (im.height, im.width, 3) for s in samples)
    per_frame = im.meta["objects_per_frame"]
    for s in samples:
        assert len(s.boxes) == per_frame[s.meta["frame"]]
    assert sum(len(s.boxes) for s in samples) > 0
    assert {b.label for s in samples for b in s.boxes} <= {
        "pedestrian",
        "biker",
        "skater",
        "cart",
        "car",
        "bus",
    }
