# A cheap DistilPose student on its teacher's patch grid, alone (for test,
# inference and export): the half-resolution backbone of
# distilpose_hrnet-w16-tiny-3stage-pool2_inference_synthcoco-128x96.py,
# whose 16x12 map the token encoder upsamples to 32x24 before cutting 4x3
# patches: the teacher's 8x8 grid of 64 visual tokens, so the visual
# tokens are distilled too. Two encoder layers with a narrower MLP keep it
# within a quarter of the teacher's FLOPs. Its training configs:
#   distilpose_hrnet-w16-tiny-3stage-pool2-up2_1xb16-32e_synthcoco8k-128x96.py
#   td-reg_hrnet-w16-tiny-3stage-pool2-up2-tde_1xb16-32e_synthcoco8k-128x96.py
_base_ = ['./distilpose_hrnet-w16-tiny-3stage_inference_synthcoco-128x96.py']

# model settings: pooled input, stride-8 map upsampled to the teacher's grid
model = dict(
    backbone=dict(input_pool=2),
    neck=dict(feature_stride=8, upsample=2, depth=2, mlp_ratio=2))
