"""Apply ``model.test_cfg.precision`` / ``compile`` for validation and
testing; the switch itself is
:func:`distilpose.models.utils.set_inference_precision`."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from ...models.utils.precision import PRECISIONS, set_inference_precision


@HOOKS.register_module()
class InferencePrecisionHook(Hook):
    """Apply ``model.test_cfg.precision`` / ``compile`` during validation
    and testing (a no-op for the default fp32), and restore fp32 for
    training."""

    priority = 'LOW'

    def before_run(self, runner) -> None:
        precision, _, _ = self._switch(runner)
        if precision not in PRECISIONS:  # a bad config, before any work
            raise ValueError(f'model.test_cfg.precision={precision!r}: '
                             f'choose one of {PRECISIONS}.')

    @staticmethod
    def _switch(runner) -> tuple:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        test_cfg = getattr(model, 'test_cfg', None) or {}
        return (test_cfg.get('precision', 'fp32'),
                bool(test_cfg.get('compile', False)), model)

    def _apply(self, runner) -> None:
        precision, compile_, model = self._switch(runner)
        if precision != 'fp32' or compile_:
            set_inference_precision(model, precision, compile_)
            param = next(model.parameters(), None)
            device = 'cpu' if param is None else param.device.type
            runner.logger.info(
                f'inference in {precision}'
                f'{" with torch.compile" if compile_ else ""} on {device}')

    def _restore(self, runner) -> None:
        precision, compile_, model = self._switch(runner)
        if precision != 'fp32' or compile_:
            set_inference_precision(model, 'fp32')

    def before_val(self, runner) -> None:
        self._apply(runner)

    def after_val(self, runner) -> None:
        self._restore(runner)

    def before_test(self, runner) -> None:
        self._apply(runner)
