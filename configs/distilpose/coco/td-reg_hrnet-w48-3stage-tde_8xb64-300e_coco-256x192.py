# Regression baseline of DistilPose-L: the same 3-stage HRNet-W48 + token
# encoder + regression head with (x, y) outputs only, trained alone with
# the coordinate loss (official "hr48_3stage_coco_256x192").
_base_ = ['./distilpose-l_hrnet-w48-3stage_inference_coco-256x192.py']

# model settings
model = dict(head=dict(with_score=False, with_sigma=False))

# data loaders: 8 GPUs x 64
train_dataloader = dict(batch_size=64)
