"""Looking at a dataset: the report gallery (``goalframe report``) and the Rerun viewer files."""
