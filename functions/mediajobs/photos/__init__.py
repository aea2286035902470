"""Photo processing: background removal and face crop for images, batches and ZIP archives."""
