"""Training: LightningModule, losses and targets, schedules, optimisers."""
