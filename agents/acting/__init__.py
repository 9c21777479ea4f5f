"""Acting: a policy over the network (`policy`), the decodings that turn it into candidate
programs (`strategies`, `candidates`, the random search `search`, the sketch search `sketch`),
the one rollout loop that steps any policy in a vector env (`collector`, filling `buffers`), and
the refinement loop with its report (`evaluation`, `refine`, `plot`)."""
