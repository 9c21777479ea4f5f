"""The graph network and its parts: node features (`encoder`), message-passing layers (`layers`),
`RefineNet` (`network`), padded observations to tensors (`batching`), the masked action
distributions (`distribution`, the one place masks apply) and checkpoints (`checkpoint`)."""
