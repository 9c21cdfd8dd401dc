# DistilPose-L for inference and testing: the student alone (no teacher).
_base_ = ['./td-reg_hrnet-w48-3stage-tde_8xb64-300e_coco-256x192.py']

model = dict(head=dict(with_score=True, with_sigma=True))
