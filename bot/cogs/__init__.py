"""One cog per feature: compose (slash, mentions, buttons, remix), history, info."""
