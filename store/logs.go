package store

import (
	"context"
	"fmt"
	"strings"
)

// logTable is a table of numbered lines, one log per owner: build_logs, task_run_logs.
type logTable struct {
	// table and key name the table and its owner's column; what names the owner in errors.
	table, key string
	what       func(id string) string
}

var (
	buildLog   = logTable{table: "build_logs", key: "build_id", what: buildRef}
	taskRunLog = logTable{table: "task_run_logs", key: "run_id", what: taskRunRef}
)

// appendLog appends texts to the log of owner id, numbering the lines after the last stored; a text holding
// newlines is stored as one line per line, so line numbers match what readers count. lock checks (and locks)
// the owner in the transaction first.
func (s *Store) appendLog(ctx context.Context, t logTable, id string, texts []string, lock func(conn) error) error {
	var lines []string
	for _, x := range texts {
		lines = append(lines, strings.Split(strings.TrimSuffix(strings.ReplaceAll(x, "\r\n", "\n"), "\n"), "\n")...)
	}
	if len(lines) == 0 {
		return nil
	}
	return s.inTx(ctx, func(c conn) error {
		if err := lock(c); err != nil {
			return err
		}
		var last int64
		if err := c.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM "+t.table+" WHERE "+t.key+" = ?", id).Scan(&last); err != nil {
			return fmt.Errorf("appending to the log of %s: %w", t.what(id), err)
		}
		at := toDB(now())
		for i, line := range lines {
			if _, err := c.exec(ctx, "INSERT INTO "+t.table+" ("+t.key+", seq, at, line) VALUES (?, ?, ?, ?)",
				id, last+int64(i)+1, at, line); err != nil {
				return fmt.Errorf("appending to the log of %s: %w", t.what(id), err)
			}
		}
		return nil
	})
}

// readLog returns up to limit lines of the log of owner id after line number after (0 = from the start; limit
// <= 0 means 1000).
func readLog(ctx context.Context, c conn, t logTable, id string, after int64, limit int) ([]LogLine, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := c.query(ctx, "SELECT seq, at, line FROM "+t.table+" WHERE "+t.key+" = ? AND seq > ? ORDER BY seq LIMIT ?",
		id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the log of %s: %w", t.what(id), err)
	}
	defer rows.Close()
	out := []LogLine{}
	for rows.Next() {
		var l LogLine
		var at int64
		if err := rows.Scan(&l.Seq, &at, &l.Text); err != nil {
			return nil, fmt.Errorf("reading the log of %s: %w", t.what(id), err)
		}
		l.At = fromDB(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the log of %s: %w", t.what(id), err)
	}
	return out, nil
}
