"""Reading video files: one decode pass, probing, thumbnails and PNG images."""
