"""Daily jams, the Discord-free half: when each server's jam is due (`timing`) and the scheduler
that calls the round runner at that moment (`scheduler`). The cog and the runner use these."""
