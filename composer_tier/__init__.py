"""The composer tier of the scale-out mode: a Ray Serve deployment that owns the model and composes
in batches, and the handle the bot calls it through. Nothing here is imported in the default mode."""
