"""Convert official DistilPose/TokenPose checkpoints, or extract a student.

    python tools/convert_official.py SRC DST [--config CFG]
        SRC: an official checkpoint (DistilPose-S/-L, their regression
        baselines, TokenPose HRNet-W48 or StemNet teacher). The model is
        recognised from its keys; DST loads into the printed config.

    python tools/convert_official.py --extract-student SRC DST [--config CFG]
        SRC: a training checkpoint of the distiller; DST holds only the
        student's weights and metadata (checked against CFG if given).

Files are read with torch.load(weights_only=True): pickles that carry code
are refused.
"""
import argparse
import sys

from distilpose.convert import VARIANTS, convert_official, extract_student


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument(
        '--config', help='config to check the result against (default: '
        'the matching config of this project)')
    parser.add_argument(
        '--extract-student',
        action='store_true',
        help='extract the student from a distillation checkpoint')
    args = parser.parse_args(argv)
    try:
        if args.extract_student:
            n = extract_student(args.src, args.dst, args.config)
            print(f'wrote {args.dst}: {n} student tensors')
        else:
            variant, config = convert_official(args.src, args.dst,
                                               args.config)
            print(f'{args.src}: {VARIANTS[variant][0]}\n'
                  f'wrote {args.dst}\nuse it with {config}')
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
