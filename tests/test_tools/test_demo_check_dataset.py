"""The demo runs the full dataset check (every image decoded) before it
trains, and stops with the report when an image is bad."""
import os.path as osp
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools'))
import demo_helpers  # noqa: E402
from synthetic_coco import generate_dataset  # noqa: E402


def test_the_demo_refuses_a_dataset_with_an_undecodable_image(
        tmp_path, capsys):
    root = str(tmp_path / 'data')
    generate_dataset(root, num_train_images=3, num_val_images=2, seed=0)
    demo_helpers.check_dataset(root)
    assert capsys.readouterr().out.count('no problems found') == 2

    bad = sorted((tmp_path / 'data' / 'val').iterdir())[0]
    bad.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    with pytest.raises(SystemExit) as err:
        demo_helpers.check_dataset(root)
    assert bad.name in str(err.value)
