"""``torch.compile`` for training, on the network only::

    custom_hooks = [..., dict(type='CompileNetworkHook')]

MMEngine's own switch (``compile=True`` in a config) compiles the whole
``train_step``, data preprocessing included, and Dynamo cannot trace
MMPose's data samples: it fails in MMEngine's ``cast_data``
("RuntimeError when making fake tensor call ... 'ndarray' object has no
attribute '__deepcopy__'"), for any MMPose model. This hook compiles
what does the arithmetic instead: the model's ``extract_feat`` (backbone
and neck) and ``head.forward``, and a distiller's frozen teacher's.
Parameters, state dicts and checkpoints are untouched (functions are
wrapped, not modules). The first steps compile (tens of seconds; again
when the batch shape or train/eval mode changes).
"""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

_DONE = '_distilpose_compiled_network'


def compile_network(model: torch.nn.Module, teacher: bool = True,
                    **compile_kwargs) -> list:
    """Wrap ``extract_feat`` and ``head.forward`` of ``model`` (and of its
    teacher if ``teacher``) in ``torch.compile(**compile_kwargs)``, in
    place and once; returns the names of the compiled parts."""
    if getattr(model, _DONE, False):
        return []
    owners = [('model', model)]
    if teacher and model.__dict__.get('teacher') is not None:
        owners.append(('teacher', model.__dict__['teacher']))
    names = []
    for name, owner in owners:
        head = getattr(owner, 'head', None)
        if not hasattr(owner, 'extract_feat') or head is None:
            raise TypeError(
                f'CompileNetworkHook: the {name} ({type(owner).__name__}) '
                'has no extract_feat and head; it compiles top-down pose '
                'estimators. Remove the hook for this model.')
        owner.extract_feat = torch.compile(owner.extract_feat,
                                           **compile_kwargs)
        head.forward = torch.compile(head.forward, **compile_kwargs)
        names += [f'{name}.extract_feat', f'{name}.head.forward']
    setattr(model, _DONE, True)
    return names


@HOOKS.register_module()
class CompileNetworkHook(Hook):
    """Compile the network (:func:`compile_network`) when training starts.

    Args:
        teacher (bool): Compile a distiller's teacher too.
        **compile_kwargs: Passed to ``torch.compile`` (``mode``,
            ``backend``, ``dynamic``...).
    """

    priority = 'LOW'  # after ChannelsLastHook (VERY_HIGH) changed layouts

    def __init__(self, teacher: bool = True, **compile_kwargs):
        self.teacher = teacher
        self.compile_kwargs = compile_kwargs

    def before_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        names = compile_network(model, self.teacher, **self.compile_kwargs)
        if names:
            runner.logger.info(
                f'CompileNetworkHook: torch.compile on {", ".join(names)}; '
                'the first steps compile')
