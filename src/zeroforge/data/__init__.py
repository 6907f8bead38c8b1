"""The streaming training dataset: file sharding, shuffle buffer, augmentation."""
