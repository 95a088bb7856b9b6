package mint

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v as the JSON answer of a token-style endpoint, with
// the headers every such answer carries (RFC 6749 section 5.1):
// Content-Type: application/json, Cache-Control: no-store and
// Pragma: no-cache. Headers set on w before the call are kept.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only a programming error can get here
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
