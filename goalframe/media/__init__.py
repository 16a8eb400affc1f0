"""Media below storage: mp4 files (PyAV) and image/mask geometry, shared by readers, simulators, storage and loaders."""
