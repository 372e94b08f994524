module github.com/vigil-moderation/vigil/services/ingest

go 1.26.0

require github.com/vigil-moderation/vigil/services/moderation v0.0.0-00010101000000-000000000000

replace (
	github.com/vigil-moderation/vigil/migrations => ../../migrations
	github.com/vigil-moderation/vigil/services/moderation => ../moderation
)
