"""tapegrad.nn: layers, losses, modules, optimizers, data loading and checkpoints, built on tapegrad.autograd."""
