"""The domain's pure rules and vocabulary: no model, no query (the layer every other one may use)."""
