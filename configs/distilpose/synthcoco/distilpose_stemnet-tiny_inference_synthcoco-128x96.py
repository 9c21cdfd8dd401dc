# The demo's DistilPose student for inference (no teacher).
_base_ = ['./td-reg_stemnet-tiny-tde_1xb32-30e_synthcoco-128x96.py']

model = dict(head=dict(with_score=True, with_sigma=True))
