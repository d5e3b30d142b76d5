"""What the reader is asked and how: a question's asks, the evidence each ask is shown,
the prompt, the generators (llama.cpp in process or a remote server) and the model files
they load, and the comparisons of figures the service computes itself."""
