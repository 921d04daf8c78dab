"""Built-in explainers, one plugin module per method family: ``cam`` (the CAM family),
``scorecam``, ``gradients`` (captum's gradient methods), ``rollout`` (the ViT attention
family) and ``controls`` (model-independent reference maps). Each registers itself like a
third-party plugin, so ``ROPBENCH_DISABLE_PLUGINS=ropbench_plugins.explainers.gradients``
removes one family alone."""
