"""Report files -> chunks -> a build: the loaders that read each format (and the limits
they refuse past), the section chunker, the document collection and the index builder."""
