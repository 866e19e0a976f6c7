"""Understanding: plain words and options → a validated CompositionRequest."""
