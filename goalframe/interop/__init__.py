"""Datasets in other tools' formats: the LeRobot export (``goalframe export lerobot``)."""
