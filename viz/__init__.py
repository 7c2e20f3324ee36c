"""tapegrad.viz: see what a CNN learned (Zeiler & Fergus deconvnet and friends) and the graphs models build.

* :class:`DeconvNet`, :class:`GuidedBackprop`, :class:`Saliency`: project one activation to pixel space by
  walking the recorded tape with a rule table (:func:`register_rule` adds rules for your own ops).
* :func:`top_activations`: dataset-wide strongest activations per channel (ZF Fig. 2), with receptive fields.
* :func:`occlusion` (ZF Fig. 7) and :func:`sanity_check` (Adebayo et al., 2018).
* :func:`draw_graph` / :func:`draw_model` / :func:`render_graph`: the computation graph with Graphviz.
* :mod:`tapegrad.viz.render`: Pillow grids with stated normalisation; :mod:`tapegrad.viz.deconv_matrix`: the
  slides' explicit matrices.
"""

from .deconv_matrix import conv_matrix, deconv_matrix, deconvolve, max_pool_switches, unpool
from .graph import draw_graph, draw_model, render_graph, trace_modules
from .occlusion import Occlusion, occlusion
from .project import DeconvNet, GuidedBackprop, Projection, Saliency, project
from .receptive_field import Field, receptive_field
from .render import feature_map_grid, filter_grid, grid, normalize, to_pil, top_activations_grid
from .rules import METHODS, NoProjectionRule, register_rule
from .sanity import format_table, sanity_check
from .similarity import spearman, ssim
from .top_activations import Hit, TopActivations, top_activations, top_activations_of_layers

__all__ = [
    "METHODS",
    "DeconvNet",
    "Field",
    "GuidedBackprop",
    "Hit",
    "NoProjectionRule",
    "Occlusion",
    "Projection",
    "Saliency",
    "TopActivations",
    "conv_matrix",
    "deconv_matrix",
    "deconvolve",
    "draw_graph",
    "draw_model",
    "feature_map_grid",
    "filter_grid",
    "format_table",
    "grid",
    "max_pool_switches",
    "normalize",
    "occlusion",
    "project",
    "receptive_field",
    "register_rule",
    "render_graph",
    "sanity_check",
    "spearman",
    "ssim",
    "to_pil",
    "top_activations",
    "top_activations_grid",
    "top_activations_of_layers",
    "trace_modules",
    "unpool",
]
