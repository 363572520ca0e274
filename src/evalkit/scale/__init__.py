"""Past one machine: shards of a run merged back into one (:mod:`.shards`, :mod:`.merge`), jobs replayed
and scored in several processes (:mod:`.workers`), and recording through a provider's Batch API
(:mod:`.batch`). Each plugs evalkit into an engine users already have (a CI job matrix, the cores of
one machine, the provider's batch queue) without changing how a job is replayed or scored."""
