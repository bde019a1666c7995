package snapshot

// AppRows is one app's RowsProcessed figures from one source of API
// events (the stream or the stored API events), from the ledger the
// exporter keeps in its state file: the rows of the live 24-hour window,
// and the busiest UTC day of the HighWaterDays days before the first day
// that window touches (so the window's own rows never raise it).
type AppRows struct {
	Source   string // "stream" or "api_events"
	ID, Name string
	// Rows24h sums the RowsProcessed of the app's events of the last 24
	// hours (by the hour of their EventDate).
	Rows24h float64
	// HasDailyMax says the ledger covered at least one whole UTC day of the
	// look-back on which the app had events; DailyMax is the most rows of
	// those days. Without it (the source's first day, an app new to it)
	// the app has no mark and no surge is judged.
	HasDailyMax bool
	DailyMax    float64
}
