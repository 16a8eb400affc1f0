"""Media below storage: mp4 files (PyAV) and image/mask geometry for readers, simulators, storage."""
