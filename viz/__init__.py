"""tapegrad.viz: see what a CNN learned (Zeiler & Fergus deconvnet and friends) and the graphs models build."""
