"""A question's lifetime in the service: the pipeline that orchestrates the stages, the
admission queue in front of the one model, the answer cache and chat conversations."""
