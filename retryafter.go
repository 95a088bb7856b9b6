package mint

import (
	"net/http"
	"strconv"
	"time"
)

// setRetryAfter sets the Retry-After header (RFC 9110 section 10.2.3, in
// whole seconds, rounded up, at least 1) on the answer to a throttled
// request (RFC 6585 section 4). Every dialect's WriteError calls it, so a
// 429 carries it in every wire shape.
func setRetryAfter(w http.ResponseWriter, e *Error) {
	if e.Kind != KindThrottled {
		return
	}
	secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}
