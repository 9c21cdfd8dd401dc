"""``tools/analyze_predictions.py`` on a made-up annotation file and dumps:
exact keypoints are all precise and reach AP 1; a displaced wrist is a
miss; bad input is refused by name."""
import json
import pickle

import numpy as np
import pytest
from conftest import load_tool


def people(n=4):
    """``n`` people in one 100x100 image, 17 labelled keypoints each."""
    rng = np.random.default_rng(0)
    anns = []
    for i in range(n):
        kpts = np.concatenate([rng.uniform(20, 80, (17, 2)),
                               np.full((17, 1), 2.)], 1)
        anns.append(dict(id=i + 1, image_id=1, category_id=1, iscrowd=0,
                         area=2500., bbox=[10., 10., 50., 50.],
                         num_keypoints=17,
                         keypoints=kpts.ravel().tolist()))
    return anns


def write(tmp_path, anns, shift_wrist=0.):
    tmp_path.mkdir(exist_ok=True)
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(json.dumps(dict(
        images=[dict(id=1, width=100, height=100, file_name='1.jpg')],
        annotations=anns,
        categories=[dict(id=1, name='person', keypoints=[], skeleton=[])])))
    samples = []
    for ann in anns:
        kpts = np.asarray(ann['keypoints']).reshape(-1, 3)[:, :2].copy()
        kpts[10] += shift_wrist  # right wrist
        samples.append(dict(raw_ann_info=ann, pred_instances=dict(
            keypoints=kpts[None], keypoint_scores=np.full((1, 17), .9))))
    dump = tmp_path / 'dump.pkl'
    dump.write_bytes(pickle.dumps(samples))
    return str(ann_file), str(dump)


def test_exact_keypoints_are_precise_and_reach_ap_one(tmp_path, capsys):
    tool = load_tool('analyze_predictions')
    ann_file, dump = write(tmp_path, people())
    assert tool.main([ann_file, f'exact={dump}']) == 0
    out = capsys.readouterr().out
    assert '| exact | 1.000 | 0.000 | 0.000 | 1.000 | 0.0000 |' in out
    assert '| exact | 1.000 | 1.000 | 1.000 |' in out


def test_a_displaced_wrist_is_a_miss(tmp_path):
    tool = load_tool('analyze_predictions')
    ann_file, dump = write(tmp_path, people(), shift_wrist=20.)
    sigmas = np.asarray(tool.coco_metainfo()['sigmas'])
    people_ = tool.read_dump(dump)
    similarities = [tool.keypoint_similarity(p, sigmas) for p in people_]
    loc = tool.localisation(similarities)
    assert loc['miss'] == pytest.approx(1 / 17)
    assert loc['per_keypoint'][10] < 0.5 < min(loc['per_keypoint'][:10])
    # every person's own score is 0.9; its true OKS is below 1
    scores = tool.instance_scores(people_, similarities)
    assert scores['own scores'] == pytest.approx([0.9] * 4)
    assert max(scores['true OKS']) < 1


def test_bad_input_is_refused(tmp_path, capsys):
    tool = load_tool('analyze_predictions')
    ann_file, dump = write(tmp_path, people(1))
    for argv, message in (
        ([ann_file, dump], 'NAME=DUMP.pkl'),
        ([ann_file, 'a=missing.pkl'], '--dump FILE.pkl'),
        ([str(tmp_path / 'none.json'), f'a={dump}'], 'no such annotation'),
    ):
        with pytest.raises(SystemExit):
            tool.main(argv)
        assert message in capsys.readouterr().err
    other_ann, _ = write(tmp_path / 'other', people(1)[:0])
    with pytest.raises(SystemExit):
        tool.main([other_ann, f'a={dump}'])
    assert 'not in the annotation file' in capsys.readouterr().err
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(pickle.dumps([dict(pred_instances={})]))
    with pytest.raises(SystemExit):
        tool.main([ann_file, f'a={bad}'])
    assert 'not a dump of top-down predictions' in capsys.readouterr().err
