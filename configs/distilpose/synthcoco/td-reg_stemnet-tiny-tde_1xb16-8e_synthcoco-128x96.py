# The regression baseline of the demo's student: the same network, data and
# schedule, trained alone with the coordinate loss (no teacher, no score or
# sigma outputs).
_base_ = ['./distilpose_stemnet-tiny_inference_synthcoco-128x96.py']

# model settings
model = dict(head=dict(with_score=False, with_sigma=False))
