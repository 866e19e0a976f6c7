"""Audio: FluidSynth rendering, effects and mixing, loudness, encoding, fitting a size limit."""
