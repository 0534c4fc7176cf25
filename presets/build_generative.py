"""Generative presets: GANs (an MLP pair on a ring of Gaussians, DCGAN) and an RBM.

Loaded by `presets/build.py`, which writes every maker of `PRESETS` to
`presets/<name>.json`. A GAN project holds two networks named after the roles
the ``gan`` recipe trains: "generator" (its Input shape is the noise shape)
and "discriminator" (its Input takes the data).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import DIGITS, Builder, new_project  # noqa: E402

GAN_TRAINING = {"recipe": "gan", "optimizer": "adam", "betas": [0.5, 0.999]}


# --- an MLP GAN on a ring of eight Gaussians ------------------------------------------
# Measured on the CPU (bench/recipes_generative.py): the plain GAN collapses onto one or
# two modes; the gradient penalty spreads it over all eight, the weight average sharpens
# each mode, and a 2-D noise (the data's own dimension) maps onto the ring far more
# precisely than a 16- or 64-D one.
RING_NOISE = 2


def gan_mlp():
    p = new_project("gan_mlp", "GAN on a ring of Gaussians",
                    "Goodfellow et al. 2014: an MLP generator and discriminator on a ring of eight 2-D Gaussians.",
                    "A generative adversarial network trains a generator to turn noise into samples that a "
                    "discriminator cannot tell from the data, while the discriminator learns to tell them apart. "
                    "Eight Gaussians on a circle show at a glance whether the generator covers every mode or "
                    "collapses onto a few. Non-saturating loss, Adam with betas (0.5, 0.999), and standard "
                    "stabilisers as training settings: a zero-centred gradient penalty on the discriminator "
                    "(gradient_penalty) keeps the generator from hopping between modes, the generator keeps "
                    "a moving average of its weights (g_ema), which sharpens every mode, one-sided label "
                    "smoothing (label_smoothing) and a cosine learning-rate decay. The noise size is the "
                    "generator's Input shape.",
                    [2], {"source": "ring", "n": 100000, "modes": 8, "radius": 2.0, "std": 0.02,
                          "val_split": 0.02, "seed": 0, "normalize": False},
                    {**GAN_TRAINING, "lr": 0.0005, "schedule": "cosine", "label_smoothing": 0.1,
                     "gradient_penalty": 0.1, "g_ema": 0.999, "epochs": 32, "batch_size": 256},
                    task="generative")
    g = Builder(p.add_network("generator"))
    g.add("Input", "noise", {"shape": [RING_NOISE]})
    for i in (1, 2, 3):
        g.add("Linear", f"fc{i}", {"out_features": 128})
        g.add("LeakyReLU", f"lrelu{i}", {"negative_slope": 0.2})
    g.add("Linear", "fc_out", {"out_features": 2})
    g.add("Output", "point")
    d = Builder(p.add_network("discriminator"))
    d.add("Input", "point", {"shape": [2]})
    for i in (1, 2, 3):
        d.add("Linear", f"fc{i}", {"out_features": 128})
        d.add("LeakyReLU", f"lrelu{i}", {"negative_slope": 0.2})
    d.add("Linear", "fc_out", {"out_features": 1})
    d.add("Output", "logit")
    return p


# --- DCGAN, as the PyTorch tutorial builds it ------------------------------------------
NZ, NGF, NDF, NC = 100, 64, 64, 3


def dcgan():
    p = new_project("dcgan", "DCGAN",
                    "Radford et al. 2015: transposed-convolution generator and convolutional discriminator, 64×64 images.",
                    "DCGAN made GANs train reliably on images: strided convolutions instead of pooling, batch norm in "
                    "both networks, ReLU in the generator and leaky ReLU in the discriminator, Tanh output, Adam at "
                    "2e-4 with beta1 0.5. Exactly the PyTorch DCGAN tutorial (nz 100, ngf = ndf = 64, 3 channels); "
                    "it trains on the built-in digits at 64×64, grey repeated to RGB. For grey images set the "
                    "generator's last layer to 1 channel and the discriminator's Input to [1, 64, 64].",
                    [NC, 64, 64], {**DIGITS, "normalize": False},
                    {**GAN_TRAINING, "lr": 0.0002, "epochs": 25, "batch_size": 128}, task="generative")
    g = Builder(p.add_network("generator"))
    g.add("Input", "noise", {"shape": [NZ, 1, 1]})
    widths = (NGF * 8, NGF * 4, NGF * 2, NGF)
    for i, width in enumerate(widths, 1):
        first = i == 1
        g.add("ConvTranspose2d", f"convt{i}", {"out_channels": width, "kernel_size": 4, "stride": 1 if first else 2,
                                               "padding": 0 if first else 1, "bias": False})
        g.add("BatchNorm2d", f"bn{i}")
        g.add("ReLU", f"relu{i}")
    g.add("ConvTranspose2d", "convt5", {"out_channels": NC, "kernel_size": 4, "stride": 2, "padding": 1, "bias": False})
    g.add("Tanh", "tanh")
    g.add("Output", "image")
    d = Builder(p.add_network("discriminator"))
    d.add("Input", "image", {"shape": [NC, 64, 64]})
    for i, width in enumerate((NDF, NDF * 2, NDF * 4, NDF * 8), 1):
        d.add("Conv2d", f"conv{i}", {"out_channels": width, "kernel_size": 4, "stride": 2, "padding": 1, "bias": False})
        if i > 1:
            d.add("BatchNorm2d", f"bn{i}")
        d.add("LeakyReLU", f"lrelu{i}", {"negative_slope": 0.2})
    d.add("Conv2d", "conv5", {"out_channels": 1, "kernel_size": 4, "stride": 1, "padding": 0, "bias": False})
    d.add("Sigmoid", "sigmoid")
    d.add("Output", "real")
    return p


# --- a restricted Boltzmann machine on binarised digits ---------------------------------
def rbm():
    p = new_project("rbm", "Restricted Boltzmann machine",
                    "Hinton 2002: a Bernoulli RBM trained by contrastive divergence (CD-1) on binarised 8×8 digits.",
                    "A restricted Boltzmann machine is an energy-based model with one layer of visible and one of "
                    "hidden binary units, connected only across layers. Contrastive divergence runs a short Gibbs "
                    "chain from each training sample and lowers the free energy of the data against that of the "
                    "chain's end. Stacked RBMs pretrained the first deep belief networks (2006). The network outputs "
                    "the hidden units' probabilities, a feature vector for other layers.",
                    [64], {**DIGITS, "normalize": False},
                    {"recipe": "rbm", "optimizer": "sgd", "lr": 0.1, "momentum": 0.5, "epochs": 20, "batch_size": 32},
                    task="generative")
    b = Builder(p.add_network("main"))
    b.add("Input", "pixels", {"shape": [64]})
    b.add("RBM", "rbm", {"hidden": 64, "k": 1})
    b.add("Output", "hidden")
    return p


PRESETS = [gan_mlp, dcgan, rbm]
