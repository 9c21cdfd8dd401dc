# MMPose's default runtime, plus the imports that register DistilPose and
# apply its MMEngine fixes (projects/distilpose/runtime/mmengine_patches.py:
# safe checkpoint loading on every route, atomic checkpoint writes, CPU
# torchrun), and its reliability hooks (projects/distilpose/runtime/hooks/):
#   KeypointLayoutCheckHook  model, metainfo and annotations agree on the
#                            keypoints, checked before any work is done
#   DatasetCheckHook         missing/empty images, wrong keypoint counts,
#                            bad visibility flags, non-finite or far-off
#                            keypoints in the train annotations, refused
#                            up front (or skipped: skip_bad_samples=True)
#   FiniteLossHook           stop at the first NaN/inf loss, before saving
#   EpochReseedHook          RNGs reseeded from (seed, epoch, rank) every
#                            epoch: --resume continues exactly
#   MeanLossAcrossRanksHook  distributed runs log the mean loss over ranks
#   ResumeFromReadableCheckpointHook
#                            --resume takes the newest complete checkpoint
#                            of this work dir, saying what it skipped, and
#                            refuses a load_from behind the work dir
#   InferencePrecisionHook   model.test_cfg.precision='bf16' / compile=True
#                            for validation and testing (default: fp32)
_base_ = 'mmpose::_base_/default_runtime.py'

custom_imports = dict(
    imports=['distilpose', 'distilpose.runtime.mmengine_patches'],
    allow_failed_imports=False)

# DDP through MMEngine's wrapper config rather than its built-in
# device_ids=[LOCAL_RANK]: device_ids=None serves a CPU model (gloo) and a
# model on its one GPU alike. MMEngine reads find_unused_parameters from
# here (not from the top-level key) once model_wrapper_cfg is set.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    device_ids=None,
    broadcast_buffers=False,
    find_unused_parameters=False)

custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='KeypointLayoutCheckHook'),
    dict(type='DatasetCheckHook'),
    dict(type='FiniteLossHook'),
    dict(type='EpochReseedHook'),
    dict(type='MeanLossAcrossRanksHook'),
    dict(type='ResumeFromReadableCheckpointHook'),
    dict(type='InferencePrecisionHook'),
]
