# DistilPose-S for inference and testing: the student alone (no teacher).
# Use it with init_model / inference_topdown / MMPoseInferencer / mim test
# and a checkpoint trained with distilpose-s_stemnet_8xb32-300e_coco-256x192.
_base_ = ['./td-reg_stemnet-tde_8xb64-300e_coco-256x192.py']

model = dict(head=dict(with_score=True, with_sigma=True))
