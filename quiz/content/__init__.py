"""Content: the vignette model, the safe YAML reader, loading, checks, and what is made from content (schema, exports, skeletons, reference docs)."""
