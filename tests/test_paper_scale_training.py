"""Training-batch augmentation of the paper-scale protocol: random-resized crops (TinyImageNet to 224)."""

import torch
import torch.nn.functional as F

from alnb.data.datasets import Dataset
from alnb.models.training import ImageTensors, random_resized_crop


def test_crops_have_the_size_and_are_seeded():
    x = torch.rand(6, 3, 16, 16)
    a = random_resized_crop(x, 24, torch.Generator().manual_seed(0))
    b = random_resized_crop(x, 24, torch.Generator().manual_seed(0))
    c = random_resized_crop(x, 24, torch.Generator().manual_seed(1))
    assert a.shape == (6, 3, 24, 24) and torch.equal(a, b) and not torch.equal(a, c)


def test_a_whole_image_box_is_a_plain_resize():
    x = torch.rand(2, 1, 8, 8)
    whole = random_resized_crop(x, 20, None, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    resized = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
    assert torch.allclose(whole, resized, atol=1e-5)


def test_crops_stay_inside_the_image_and_cover_the_scale_range():
    ramp = torch.linspace(0, 1, 32).expand(500, 1, 32, 32).contiguous()  # value = horizontal position
    crops = random_resized_crop(ramp, 8, torch.Generator().manual_seed(0))
    width = crops[:, 0, 0, -1] - crops[:, 0, 0, 0]  # the box's width, as a share of the image (×7/8)
    assert crops.min() >= 0 and crops.max() <= 1
    assert width.min() < 0.3 and width.max() > 0.8


def test_image_tensors_train_on_crops_and_evaluate_whole_images_at_the_crop_size():
    images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    labels = torch.arange(4)
    data = ImageTensors(Dataset("x", images, labels, images, labels, tuple("abcd")), torch.device("cpu"), crop_size=24)
    batch = data.train_batch(torch.arange(4), True, torch.Generator().manual_seed(0))
    assert batch.shape == (4, 3, 24, 24) and data.normalize(images).shape == (4, 3, 24, 24)
    plain = ImageTensors(Dataset("x", images, labels, images, labels, tuple("abcd")), torch.device("cpu"))
    assert plain.normalize(images).shape == (4, 3, 16, 16)
