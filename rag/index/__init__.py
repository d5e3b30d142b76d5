"""A build -> ranked passages: the embedder, BM25, the vector indexes (FAISS, Qdrant),
the store that holds a build on disk or in Qdrant, and hybrid retrieval."""
