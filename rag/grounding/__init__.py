"""What a shown sentence must satisfy: the terms a claim states (figures, names, units),
the policy's checks, sentence verification against the evidence and exact citations."""
