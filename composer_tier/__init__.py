"""The composer tier of the scale-out mode: a Ray Serve deployment that owns the model and composes
in batches, and the handle the bot calls it through. Nothing here is imported in the default mode.

    deployment   ComposerDeployment: a replica (compose batched, finish, remix, stats)
    app          build_app(args): the application deploy/ray/serve.yaml names (GPU or CPU replicas)
    client       RemoteComposer: the bot's async handle on the app
    errors       ComposerTierError(retriable): what a caller sees when the tier cannot answer
"""
