"""Check a COCO-format keypoint dataset: every annotation and every image.

    python tools/check_dataset.py ANN_FILE IMG_DIR [--workers N]

Reports, per file (image and annotation id), missing, empty and
undecodable images, annotations whose keypoint count differs from the
category's (or --num-keypoints), visibility flags outside {0, 1, 2},
keypoints or boxes that are not finite numbers, labelled keypoints more
than one image size outside their image, boxes without area or outside
their image, annotations of unknown images, and a file without people
(no annotation with labelled keypoints), with counts per kind. Exit
status 1 if anything was found. Training runs the same check without
decoding (DatasetCheckHook).
"""
import argparse
import os
import sys

from distilpose.datasets import check_coco_dataset, format_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('ann_file', help='COCO keypoint annotation file')
    parser.add_argument('img_dir', help='folder of the images file_name '
                        'is relative to')
    parser.add_argument('--num-keypoints', type=int,
                        help="default: the category's keypoint count")
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='decoding threads (default: all cores)')
    parser.add_argument('--no-decode', action='store_true',
                        help='check existence and size only')
    args = parser.parse_args(argv)
    try:
        problems = check_coco_dataset(
            args.ann_file, args.img_dir, args.num_keypoints,
            decode=not args.no_decode, workers=args.workers, progress=True)
    except (OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if not problems:
        print(f'{args.ann_file}: no problems found')
        return 0
    print(format_report(problems, args.ann_file))
    return 1


if __name__ == '__main__':
    sys.exit(main())
