"""Looking at a dataset: Rerun recordings, overlay videos and reports."""
