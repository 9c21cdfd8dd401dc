# MMPose's default runtime, plus the import that registers DistilPose.
_base_ = 'mmpose::_base_/default_runtime.py'

custom_imports = dict(imports=['distilpose'], allow_failed_imports=False)
