# A warm restart of the demo's TokenPose teacher: one more 20-epoch cosine
# cycle at half the learning rate, from the previous cycle's weights given
# as ``load_from`` (the optimizer starts afresh). The demo teacher of record
# is the 20-epoch teacher followed by three of these cycles (4 x 20 epochs;
# tools/demo.py --train-teacher runs them all):
#
#   mim train mmpose <this config> --cfg-options randomness.seed=0 \
#       load_from=<the previous cycle's epoch_20.pth>
#
# At the same 40 epochs, two cycles beat one 40-epoch cosine by 0.02-0.03
# AP on the generated val sets (docs/demo.md).
_base_ = ['./tokenpose_hrnet-w16-tiny_1xb16-20e_synthcoco-128x96.py']

# optimizer
optim_wrapper = dict(optimizer=dict(lr=5e-4))
