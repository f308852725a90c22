"""The domain core: dataclasses and pure rules. Nothing in this package performs I/O."""
