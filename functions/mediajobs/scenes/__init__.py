"""Projects with a storyboard and scenes; scene assets generated through providers."""
