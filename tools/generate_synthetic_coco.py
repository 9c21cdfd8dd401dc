"""Generate a COCO-format person-keypoint dataset of synthetic people.

    python tools/generate_synthetic_coco.py OUT_DIR [--train-images N]
        [--val-images N] [--seed S] [--workers W] [--image-size W H]

writes OUT_DIR/annotations/person_keypoints_{train,val}.json and the images
under OUT_DIR/{train,val}/. The output depends on the seed, the sizes and
the image size only (not on --workers). See tools/synthetic_coco/ for
what the images hold.
"""
import argparse
import os.path as osp
import sys
import time

try:
    import distilpose  # noqa: F401 (the generator writes with its fileio)
except ImportError:  # not installed: use the source tree of this checkout
    sys.path.insert(
        0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                    'projects'))
import synthetic_coco


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('out_dir')
    parser.add_argument('--train-images', type=int, default=1000)
    parser.add_argument('--val-images', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--workers',
        type=int,
        default=None,
        help='processes (default: min(4, CPU count)); 0 or 1: in-process')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=(256, 256),
        metavar=('W', 'H'))
    parser.add_argument(
        '--num-keypoints',
        type=int,
        default=synthetic_coco.NUM_KEYPOINTS,
        choices=[synthetic_coco.NUM_KEYPOINTS],
        help='only the COCO-17 layout is generated')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    start = time.time()
    try:
        summary = synthetic_coco.generate_dataset(
            args.out_dir,
            num_train_images=args.train_images,
            num_val_images=args.val_images,
            seed=args.seed,
            image_size=tuple(args.image_size),
            workers=args.workers,
            progress=not args.no_progress)
    except ValueError as e:
        parser.error(str(e))
    for split, counts in summary.items():
        print(f'{split}: {counts["images"]} images, {counts["instances"]} '
              f'people, {counts["keypoints"]} labelled keypoints '
              f'({counts["occluded_keypoints"]} occluded)')
    print(f'wrote {args.out_dir} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
