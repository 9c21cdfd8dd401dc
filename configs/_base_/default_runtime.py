# MMPose's default runtime, plus the import that registers DistilPose and
# its reliability hooks (see projects/distilpose/engine/):
#   KeypointLayoutCheckHook  model, metainfo and annotations agree on the
#                            keypoints, checked before any work is done
#   FiniteLossHook           stop at the first NaN/inf loss, before saving
#   EpochReseedHook          RNGs reseeded from (seed, epoch, rank) every
#                            epoch: --resume continues exactly
#   MeanLossAcrossRanksHook  distributed runs log the mean loss over ranks
_base_ = 'mmpose::_base_/default_runtime.py'

custom_imports = dict(imports=['distilpose'], allow_failed_imports=False)

custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='KeypointLayoutCheckHook'),
    dict(type='FiniteLossHook'),
    dict(type='EpochReseedHook'),
    dict(type='MeanLossAcrossRanksHook'),
]
