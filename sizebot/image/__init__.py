"""Container images: readers, stacked tree, dive-compatible analysis."""
