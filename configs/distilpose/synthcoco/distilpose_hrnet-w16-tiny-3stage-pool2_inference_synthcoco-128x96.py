# The model zoo's cheap DistilPose student on the generated people, alone
# (for test, inference and export): the demo student's network run at half
# resolution. Its backbone average-pools the 128x96 crop to 64x48 before
# the HRNet stem, so every layer costs a quarter (22 % of the teacher's
# FLOPs in all); the token encoder takes 4x3 patches of the 16x12 map: 16
# visual tokens. Its training configs:
#   distilpose_hrnet-w16-tiny-3stage-pool2_1xb16-32e_synthcoco8k-128x96.py
#   td-reg_hrnet-w16-tiny-3stage-pool2-tde_1xb16-32e_synthcoco8k-128x96.py
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# model settings: pooled input, stride-8 map
model = dict(backbone=dict(input_pool=2), neck=dict(feature_stride=8))
