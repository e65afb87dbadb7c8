import pytest
import torch

from alnb.models.networks import build_classifier, resolve_arch


@pytest.mark.parametrize(
    "channels,size,arch,dim",
    [(1, 8, "smallcnn", 128), (1, 28, "smallcnn", 128), (3, 32, "resnet18", 512), (3, 64, "resnet18", 512)],
)
def test_classifier_shapes_and_embeddings(channels, size, arch, dim):
    assert resolve_arch("auto", size) == arch
    model = build_classifier("auto", channels, size, 7, seed=0).eval()
    x = torch.randn(2, channels, size, size)
    assert model(x).shape == (2, 7) and model.embed(x).shape == (2, dim) and model.feature_dim == dim


def test_resnet_stem_small_vs_large_images():
    small = build_classifier("resnet18", 3, 32, 10).backbone
    large = build_classifier("resnet18", 3, 64, 10).backbone
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1)
    assert isinstance(small.maxpool, torch.nn.Identity)
    assert large.conv1.kernel_size == (7, 7) and not isinstance(large.maxpool, torch.nn.Identity)


@pytest.mark.parametrize("size", [8, 10, 16, 28, 32])
def test_smallcnn_skips_the_grid_pool_only_where_it_is_an_identity(size):
    backbone = build_classifier("smallcnn", 1, size, 10, seed=0).backbone.eval()
    grid = max(1, min(4, size // 4))
    pooled = torch.nn.Sequential(*backbone.layers[:8], torch.nn.AdaptiveAvgPool2d(grid), *backbone.layers[9:])
    x = torch.randn(3, 1, size, size)
    assert isinstance(backbone.layers[8], torch.nn.Identity) == (size // 4 <= 4)
    assert torch.equal(backbone(x), pooled(x))


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_classifier("smallcnn", 1, 8, 10, seed=5)
    after = torch.rand(1)
    b = build_classifier("smallcnn", 1, 8, 10, seed=5)
    c = build_classifier("smallcnn", 1, 8, 10, seed=6)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_unknown_arch_message():
    with pytest.raises(ValueError, match="model.arch: unknown architecture 'vgg'"):
        build_classifier("vgg", 3, 32, 10)
