"""Print the README's "Model zoo" table from model-index.yml.

    python tools/model_zoo_table.py [model-index.yml]

One row per model of the metafiles: name, config, data, AP (the first
result), parameters, FLOPs, and where the weights come from (the shipped
file with its sha256, or the official download page and the converter).
"""
import argparse
import os.path as osp

from modelindex import load

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def rows(index_file: str):
    for model in load(index_file).models:
        meta = model.metadata.data
        result = model.results[0]
        params = meta.get('Parameters')
        flops = meta.get('FLOPs')
        if model.weights:
            source = (f'[`{osp.basename(model.weights)}`]({model.weights}) '
                      f'(sha256 `{meta["SHA256"][:8]}`)')
        else:
            source = f'official: {meta["Download Page"]}; convert'
        yield (f'`{model.name}`', f'[config]({model.config})',
               result.dataset, f'{result.metrics["AP"]:.3f}',
               f'{int(params) / 1e6:.2f}M' if params else '-',
               f'{float(flops) / 1e9:.2f}G' if flops else '-', source)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('index', nargs='?',
                        default=osp.join(ROOT, 'model-index.yml'))
    args = parser.parse_args()
    print('| model | config | data | AP | params | FLOPs | weights |')
    print('|---|---|---|---|---|---|---|')
    for row in rows(args.index):
        print('| ' + ' | '.join(row) + ' |')


if __name__ == '__main__':
    main()
