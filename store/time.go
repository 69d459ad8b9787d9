package store

import "time"

// Times are stored as BIGINT microseconds since the Unix epoch, UTC. Both databases hold that exactly (SQLite has
// no time type, and PostgreSQL's timestamptz has microsecond precision anyway), it sorts and compares as a number
// on both, and no driver converts it through a time zone. The store truncates every time it writes to
// microseconds and returns what it wrote, so a value returned by a create equals the one read back later.

// now returns the current time as the store keeps it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// normalize returns t as the store keeps it, or now() when t is zero.
func normalize(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

func toDB(t time.Time) int64 { return t.UnixMicro() }

func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }
