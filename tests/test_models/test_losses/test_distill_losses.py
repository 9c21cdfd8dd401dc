"""The distillation losses on small hand-made tensors.

Every expected value is worked out by hand (in the comments) or by a plain
loop over samples, joints and pixels written independently of the
vectorised code, so a fresh clone checks the loss maths without the golden
fixtures of ``../shared``.
"""
import math

import pytest
import torch

from distilpose.models.losses import (ScoreDistilLoss, SimulatedHeatmapLoss,
                                      TokenDistilLoss, simulate_heatmaps)

# A sigma this small turns a simulated heatmap into a one-hot map at an
# integer centre: exp(-0.5 * 1 / 1e-6) is 0 in float32.
TINY_SIGMA = 1e-3


def gaussian_loop(coords, sigma, w, h):
    """Simulated heatmaps [N, K, h, w], one pixel at a time."""
    n_samples, n_joints = coords.shape[:2]
    out = torch.zeros(n_samples, n_joints, h, w, dtype=torch.float64)
    for n in range(n_samples):
        for k in range(n_joints):
            mx, my = float(coords[n, k, 0]) * w, float(coords[n, k, 1]) * h
            sx, sy = float(sigma[n, k, 0]), float(sigma[n, k, 1])
            for y in range(h):
                for x in range(w):
                    out[n, k, y, x] = math.exp(-0.5 * (
                        (x - mx)**2 / (sx**2 + 1e-9) +
                        (y - my)**2 / (sy**2 + 1e-9)))
    return out


def reduction_loop(sim, teacher, weights, mode):
    """The two reductions of SimulatedHeatmapLoss, written as sums."""
    n_samples, n_joints = weights.shape
    sq_err = [[float((sim[n, k] - teacher[n, k]).square().mean())
               for k in range(n_joints)] for n in range(n_samples)]
    w2 = [[float(weights[n, k])**2 for k in range(n_joints)]
          for n in range(n_samples)]
    if mode == 'masked':
        return sum(w2[n][k] * sq_err[n][k] for n in range(n_samples)
                   for k in range(n_joints)) / (n_samples * n_joints)
    per_joint = [
        sum(w2[n][k] for n in range(n_samples)) / n_samples *
        sum(sq_err[n][k] for n in range(n_samples)) / n_samples
        for k in range(n_joints)
    ]
    return sum(per_joint) / n_joints


# ------------------------------------------------------------ TokenDistil
def test_token_distil_loss_is_weighted_mse_and_leaves_teacher_alone():
    student = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    teacher = torch.tensor([[0., 2.], [3., 6.]], requires_grad=True)
    # squared errors 1, 0, 0, 4 -> mean 1.25, times the weight 0.5
    loss = TokenDistilLoss(loss_weight=0.5)(student, teacher)
    assert loss.item() == pytest.approx(0.625)
    loss.backward()
    # d/ds of 0.5 * mean((s - t)^2) = 0.5 * 2 (s - t) / 4
    assert torch.allclose(student.grad,
                          torch.tensor([[0.25, 0.], [0., -0.5]]))
    assert teacher.grad is None


def test_token_distil_loss_refuses_other_shapes():
    with pytest.raises(ValueError, match=r'\(2, 3\).*\(3, 2\)'):
        TokenDistilLoss()(torch.zeros(2, 3), torch.zeros(3, 2))


# ------------------------------------------------------ simulate_heatmaps
def test_simulated_heatmap_values_by_hand():
    # w=4, h=3: centre (0.5 * 4, 1/3 * 3) = (2, 1); sigma (1, 2)
    coords = torch.tensor([[[0.5, 1 / 3]]])
    sigma = torch.tensor([[[1., 2.]]])
    heatmaps, in_bounds = simulate_heatmaps(coords, sigma, (4, 3))
    assert heatmaps.shape == (1, 1, 3, 4)
    hm = heatmaps[0, 0]
    assert hm[1, 2].item() == pytest.approx(1.)  # the centre, peak 1
    assert hm[1, 3].item() == pytest.approx(math.exp(-0.5))  # dx 1 / sx 1
    assert hm[0, 2].item() == pytest.approx(math.exp(-0.125))  # dy 1 / sy 2
    assert hm[2, 0].item() == pytest.approx(math.exp(-0.5 * (4 + 0.25)))
    assert in_bounds.tolist() == [[1.]]


def test_simulated_heatmaps_match_a_pixel_loop():
    torch.manual_seed(1)
    coords = torch.rand(2, 3, 2)
    sigma = torch.rand(2, 3, 2) * 3 + 0.5
    heatmaps, _ = simulate_heatmaps(coords, sigma, (6, 5))
    expected = gaussian_loop(coords, sigma, 6, 5)
    assert torch.allclose(heatmaps.double(), expected, atol=1e-6)


def test_in_bounds_mask_is_mu_plus_minus_three_sigma_on_the_map():
    # w = 4, sigma 1: in bounds while mu - 3 < 4 and mu + 3 + 1 >= 0
    x = torch.tensor([1.74, 1.76, -1.0, -1.01])  # mu_x 6.96, 7.04, -4, -4.04
    coords = torch.stack([x, torch.full_like(x, 0.5)], -1)[None]
    _, in_bounds = simulate_heatmaps(coords, torch.ones(1, 4, 2), (4, 4))
    assert in_bounds.tolist() == [[1., 0., 1., 0.]]


# --------------------------------------------------- SimulatedHeatmapLoss
def one_hot_case():
    """Two samples, one joint, 2x1 maps. The simulated map is one-hot at
    x=1 for both; sample 0's teacher agrees (error 0), sample 1's teacher
    has its peak at x=0 (error (1 + 1) / 2 = 1)."""
    coords = torch.tensor([[[0.5, 0.]], [[0.5, 0.]]])
    sigma = torch.full((2, 1, 2), TINY_SIGMA)
    teacher = torch.tensor([[[[0., 1.]]], [[[1., 0.]]]])
    return coords, sigma, teacher


@pytest.mark.parametrize('weights, masked, official', [
    # masked: mean_n(w^2 * err) = (1 * 0 + 0 * 1) / 2
    # official: mean_n(w^2) * mean_n(err) = 0.5 * 0.5
    ([1., 0.], 0., 0.25),
    # masked: (0 + 0.25 * 1) / 2; official: (1 + 0.25) / 2 * 0.5
    ([1., 0.5], 0.125, 0.3125),
    ([1., 1.], 0.5, 0.5),  # all labelled: the two reductions agree
])
def test_masked_and_official_reductions_by_hand(weights, masked, official):
    coords, sigma, teacher = one_hot_case()
    weights = torch.tensor(weights)[:, None]
    for mode, expected in (('masked', masked), ('official', official)):
        loss = SimulatedHeatmapLoss((2, 1), reduction_mode=mode)
        assert loss(coords, sigma, teacher, weights).item() == \
            pytest.approx(expected)


@pytest.mark.parametrize('mode', SimulatedHeatmapLoss.modes)
def test_reductions_match_the_loop_on_random_tensors(mode):
    torch.manual_seed(2)
    coords = torch.rand(3, 4, 2)
    sigma = torch.rand(3, 4, 2) * 2 + 0.5
    teacher = torch.rand(3, 4, 5, 6)
    weights = torch.tensor([[1., 0., 1., 1.], [0., 0., 1., 1.],
                            [1., 1., 1., 0.]])
    loss = SimulatedHeatmapLoss((6, 5), reduction_mode=mode,
                                loss_weight=3.)
    expected = 3. * reduction_loop(
        gaussian_loop(coords, sigma, 6, 5), teacher.double(), weights, mode)
    assert loss(coords, sigma, teacher, weights).item() == \
        pytest.approx(expected, rel=1e-5)


def test_out_of_bounds_joint_is_masked_out():
    coords, sigma, teacher = one_hot_case()
    # sample 1's keypoint at x = 3 -> mu_x 6, far right of a 2-pixel map
    coords[1, 0, 0] = 3.
    loss = SimulatedHeatmapLoss((2, 1))
    assert loss(coords, sigma, teacher, torch.ones(2, 1)).item() == 0.


def test_sigma_path_gradient_points_to_the_teacher_sigma():
    """With the teacher's heatmap a Gaussian of sigma 2 at the student's
    centre, the loss is 0 at sigma 2, and its gradient with respect to the
    student's sigma is negative below and positive above."""
    w, h = 9, 9
    coords = torch.tensor([[[4 / 9, 4 / 9]]])
    teacher = gaussian_loop(coords, torch.full((1, 1, 2), 2.), w, h).float()
    loss_fn = SimulatedHeatmapLoss((w, h))
    grads = {}
    for s in (1., 2., 3.):
        sigma = torch.full((1, 1, 2), s, requires_grad=True)
        loss = loss_fn(coords, sigma, teacher, torch.ones(1, 1))
        loss.backward()
        grads[s] = sigma.grad[0, 0]
        if s == 2.:
            assert loss.item() < 1e-12
    assert (grads[1.] < 0).all() and (grads[3.] > 0).all()


def test_gradient_reaches_coords_not_teacher():
    coords = torch.tensor([[[0.4, 0.6]]], requires_grad=True)
    sigma = torch.full((1, 1, 2), 1., requires_grad=True)
    teacher = torch.rand(1, 1, 4, 3, requires_grad=True)
    SimulatedHeatmapLoss((3, 4))(coords, sigma, teacher,
                                 torch.ones(1, 1)).backward()
    assert coords.grad.abs().sum() > 0 and sigma.grad.abs().sum() > 0
    assert teacher.grad is None


def test_simulated_heatmap_loss_checks_its_arguments():
    with pytest.raises(ValueError, match='reduction_mode'):
        SimulatedHeatmapLoss(reduction_mode='mean')
    loss = SimulatedHeatmapLoss((48, 64))
    with pytest.raises(ValueError, match='heatmap_size'):
        loss(torch.rand(1, 1, 2), torch.ones(1, 1, 2),
             torch.rand(1, 1, 32, 24), torch.ones(1, 1))


# -------------------------------------------------------- ScoreDistilLoss
def ramp_heatmaps():
    """[1, 1, 3, 4] teacher heatmap with value (4 y + x) / 10 at (x, y)."""
    return (torch.arange(12.) / 10).reshape(1, 1, 3, 4)


@pytest.mark.parametrize('xy, value', [
    ((0., 0.), 0.),
    ((1., 1.), 1.1),  # (3, 2): (w - 1, h - 1)
    ((1., 0.), 0.3),  # the corner is inside
    ((0.4, 0.6), 0.5),  # x 0.4 * 3 = 1.2 -> 1, y 0.6 * 2 = 1.2 -> 1
    ((0.9, 0.), 0.3),  # 2.7 -> 3: scaled by w - 1, not w (3.6 -> 4)
    ((1.01, 0.5), 0.),  # outside [0, 1]^2: target 0
    ((0.5, -0.01), 0.),
])
def test_score_target_is_teacher_value_at_rounded_location(xy, value):
    coords = torch.tensor([[xy]])
    target = ScoreDistilLoss.score_targets(coords, ramp_heatmaps())
    assert target.shape == (1, 1, 1)
    assert target.item() == pytest.approx(value)


def test_score_targets_look_up_each_sample_and_joint():
    torch.manual_seed(3)
    teacher = torch.rand(2, 3, 5, 7)
    coords = torch.rand(2, 3, 2)
    target = ScoreDistilLoss.score_targets(coords, teacher)
    for n in range(2):
        for k in range(3):
            x = int(round(float(coords[n, k, 0]) * 6))
            y = int(round(float(coords[n, k, 1]) * 4))
            assert target[n, k, 0] == teacher[n, k, y, x]


def test_score_loss_is_weighted_l1_with_no_gradient_to_coords():
    teacher = ramp_heatmaps().repeat(1, 2, 1, 1)
    coords = torch.tensor([[[0.4, 0.6], [1., 1.]]], requires_grad=True)
    score = torch.tensor([[[0.7], [1.0]]], requires_grad=True)
    # targets 0.5 and 1.1; |0.7 - 0.5| * 1 and |1.0 - 1.1| * 0 -> mean 0.1
    loss = ScoreDistilLoss(loss_weight=0.01)(score, coords, teacher,
                                             torch.tensor([[1., 0.]]))
    assert loss.item() == pytest.approx(0.001)
    loss.backward()
    assert coords.grad is None
    # d/dscore of 0.01 * mean(|w (s - t)|): 0.01 * sign / 2, 0 unlabelled
    assert torch.allclose(score.grad, torch.tensor([[[0.005], [0.]]]))
