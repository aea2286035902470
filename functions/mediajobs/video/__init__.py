"""Video processing: probe, thumbnails, renditions and HLS with the bundled ffmpeg."""
