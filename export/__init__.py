"""Exporters: official PyTorch checkpoints to munit-eval's ONNX model contracts.

Each module is a command (``python3 -m export.<family> --help``) that rebuilds the
family's network in PyTorch under the official key names, loads a checkpoint
strictly, exports it to ONNX (opset 17, dynamic batch and spatial axes), writes
the ``munit_eval.*`` metadata of the model contracts (docs/models.md), and verifies the ONNX file
against PyTorch by running it through ``munit-eval forward``.

Families: munit (MUNIT and, with --two-stage, its content encoder and decoder),
unit, cyclegan, bicyclegan, lpips, classifier.
"""
