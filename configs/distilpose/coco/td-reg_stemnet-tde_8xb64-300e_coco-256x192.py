# Regression baseline of DistilPose-S: the same StemNet + token encoder +
# regression head with (x, y) outputs only, trained alone with the
# coordinate loss (the official "stemnet_coco_256x192", which does not run
# in the official code).
_base_ = ['./distilpose-s_stemnet_inference_coco-256x192.py']

# model settings
model = dict(head=dict(with_score=False, with_sigma=False))

# data loaders: 8 GPUs x 64
train_dataloader = dict(batch_size=64)
